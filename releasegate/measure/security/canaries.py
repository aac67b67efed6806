"""Canaries: values the harness plants (the run's generated secrets, personal data it writes
through the API) and then searches for wherever they must never appear.

A canary is searched in the forms a leak would take (a phone number without its punctuation, an
address in lower case, a URL-encoded secret). Evidence never repeats a canary: ``mask`` puts its
label in its place, so a report about a leak is not a leak itself.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO
from urllib.parse import quote

from releasegate.evidence.findings import Finding

MIN_LENGTH = 6
"""Shorter values would match ordinary text (the same floor as the report redactor)."""
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Hit:
    label: str
    where: str
    excerpt: str
    """The surroundings of the hit, with every canary masked."""


@dataclass
class Canaries:
    values: dict[str, str]
    """Label (``secret:app_key``, ``pii:phone``) → the planted value."""
    _forms: list[tuple[bytes, str]] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        forms: dict[bytes, str] = {}
        for label, value in self.values.items():
            for form in _forms_of(value):
                if len(form) >= MIN_LENGTH:
                    forms.setdefault(form.encode("utf-8"), label)
        # Longest first, so a canary containing another is reported (and masked) whole.
        self._forms = sorted(forms.items(), key=lambda item: -len(item[0]))

    @property
    def longest(self) -> int:
        return max((len(f) for f, _ in self._forms), default=0)

    def __bool__(self) -> bool:
        return bool(self._forms)

    def labels(self) -> list[str]:
        return sorted({label for _, label in self._forms})

    def mask(self, text: str) -> str:
        for form, label in self._forms:
            text = _replace_insensitive(text, form.decode("utf-8"), f"«{label}»")
        return text

    def find(self, data: bytes | str, where: str) -> list[Hit]:
        """Every canary in ``data`` (one hit per canary), with a masked excerpt."""
        raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
        lowered = raw.lower()
        hits: dict[str, Hit] = {}
        for form, label in self._forms:
            at = lowered.find(form.lower())
            if at >= 0 and label not in hits:
                around = raw[max(0, at - 80): at + len(form) + 80].decode("utf-8", "replace")
                hits[label] = Hit(label, where, self.mask(" ".join(around.split())))
        return list(hits.values())

    def find_in_stream(self, stream: IO[bytes], where: str) -> list[Hit]:
        """The same over a file too big to hold: chunks that overlap by the longest canary."""
        hits: dict[str, Hit] = {}
        tail = b""
        keep = max(self.longest - 1, 0)
        for chunk in iter(lambda: stream.read(_CHUNK), b""):
            window = tail + chunk
            for hit in self.find(window, where):
                hits.setdefault(hit.label, hit)
            tail = window[-keep:] if keep else b""
        return list(hits.values())


def _forms_of(value: str) -> Iterator[str]:
    yield value
    quoted = quote(value, safe="")
    if quoted != value:
        yield quoted
    digits = "".join(ch for ch in value if ch.isdigit())
    # A phone number written without its punctuation is still the phone number.
    if value.lstrip("+").replace(" ", "").replace("-", "").isdigit():
        if digits != value:
            yield digits
        if len(digits) > 10:
            yield digits[-10:]  # and without its country code


def _replace_insensitive(text: str, needle: str, replacement: str) -> str:
    return re.sub(re.escape(needle), replacement, text, flags=re.IGNORECASE)


def secret_canaries(run_secrets: Mapping[str, str]) -> Canaries:
    return Canaries({f"secret:{name}": value for name, value in run_secrets.items()
                     if len(value) >= MIN_LENGTH})


def make_pii(run_id: str) -> dict[str, str]:
    """Fresh personal data for one run, unlike anything real and unlike each other."""
    digits = "".join(secrets.choice(string.digits) for _ in range(24))
    tag = secrets.token_hex(4)
    return {
        "phone": f"+1555{digits[:7]}",
        "email": f"rg.{run_id}.{tag}@example.com",
        "id_number": f"9{digits[7:23]}X",
        "password": f"Rg-{secrets.token_urlsafe(14)}",
    }


def pii_canaries(pii: Mapping[str, str]) -> Canaries:
    return Canaries({f"pii:{kind}": value for kind, value in pii.items()})


def combined(*groups: Canaries) -> Canaries:
    values: dict[str, str] = {}
    for group in groups:
        values.update(group.values)
    return Canaries(values)


def search_texts(canaries: Canaries, texts: Iterable[tuple[str, str]]) -> list[Hit]:
    """Hits over (where, text) pairs."""
    return [hit for where, text in texts for hit in canaries.find(text, where)]


def leak_findings(hits: Iterable[Hit], *, criterion: str, rule: str, severity: str,
                  reproduce: Callable[[str], str],
                  owasp: Callable[[str], str] = lambda _: "") -> list[Finding]:
    """One finding per place, naming every canary found there (one leak of three values in
    one log line is one place to fix, and de-duplication must not hide the other two)."""
    places: dict[str, list[Hit]] = {}
    for hit in hits:
        places.setdefault(hit.where, []).append(hit)
    findings = []
    for where, found in places.items():
        labels = sorted({h.label for h in found})
        what = f"the canary {labels[0]} appears" if len(labels) == 1 else (
            f"the canaries {', '.join(labels)} appear")
        findings.append(Finding(
            tool="releasegate-canary", rule=rule, severity=severity, criterion=criterion,
            title=f"{what} in {where}", location=where,
            evidence=" … ".join(dict.fromkeys(h.excerpt for h in found))[:600],
            reproduction=reproduce(where), owasp=owasp(where)))
    return findings
