"""Password hashing and signed access tokens (standard library only).

Passwords: PBKDF2-HMAC-SHA256 with a per-password salt; the iteration count is stored in the
hash so it can be raised later without invalidating existing users.

Tokens: ``v1.<payload>.<signature>`` where payload is base64url JSON ``{sub, acc, iat, exp}`` and
signature is HMAC-SHA256 over ``v1.<payload>`` with a key derived from RENTO_SECRET_KEY. Only the
user id and account id travel in the token; role and active flag are re-read from the database on
every request so that a demoted or disabled user loses access immediately.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Optional

PBKDF2_ITERATIONS = 200_000
_ALGORITHM = "pbkdf2_sha256"
TOKEN_VERSION = "v1"  # noqa: S105 - a format tag, not a secret


def hash_password(password: str, iterations: Optional[int] = None) -> str:
    iterations = iterations or PBKDF2_ITERATIONS
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"{_ALGORITHM}${iterations}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        algorithm, iterations_s, salt_s, digest_s = stored.split("$")
        if algorithm != _ALGORITHM:
            return False
        salt, expected = _unb64(salt_s), _unb64(digest_s)
        iterations = int(iterations_s)
    except (ValueError, binascii.Error):
        return False
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return hmac.compare_digest(digest, expected)


_dummy_hash: Optional[str] = None


def burn_password_check(password: str) -> None:
    """Spend the time of a real check, so that response time does not reveal valid usernames."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password(secrets.token_urlsafe(16))
    verify_password(password, _dummy_hash)


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    account_id: int
    issued_at: int
    expires_at: int


def _signing_key(secret_key: str) -> bytes:
    # Domain separation: the raw secret may be reused for other purposes later.
    return hashlib.sha256(b"rento-access-token:" + secret_key.encode("utf-8")).digest()


def issue_token(secret_key: str, user_id: int, account_id: int, ttl_seconds: int) -> str:
    now = int(time.time())
    payload = {"sub": user_id, "acc": account_id, "iat": now, "exp": now + ttl_seconds}
    body = _b64(json.dumps(payload, separators=(",", ":")).encode("utf-8"))
    signed = f"{TOKEN_VERSION}.{body}"
    signature = hmac.new(_signing_key(secret_key), signed.encode("ascii"), hashlib.sha256)
    return f"{signed}.{_b64(signature.digest())}"


def verify_token(secret_key: str, token: str, now: Optional[float] = None) -> Optional[TokenClaims]:
    """Claims of a valid, unexpired token; None for anything else (never raises)."""
    try:
        version, body, signature = token.split(".")
        if version != TOKEN_VERSION:
            return None
        expected = hmac.new(
            _signing_key(secret_key), f"{version}.{body}".encode("ascii"), hashlib.sha256
        ).digest()
        if not hmac.compare_digest(expected, _unb64(signature)):
            return None
        payload = json.loads(_unb64(body))
        claims = TokenClaims(
            user_id=int(payload["sub"]),
            account_id=int(payload["acc"]),
            issued_at=int(payload["iat"]),
            expires_at=int(payload["exp"]),
        )
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error):
        return None
    if claims.expires_at <= (time.time() if now is None else now):
        return None
    return claims


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
