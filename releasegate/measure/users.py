"""Who a container runs as: an image's ``USER`` resolved to a uid, failing closed.

``USER`` may be a uid, a name, or either with ``:group``. A name is only as good as the
container's own user database: one that ``id -u`` cannot resolve is a violation (the engine
would refuse to start it, or an orchestrator's non-root check could not vouch for it), never a
pass.
"""

from __future__ import annotations

from collections.abc import Callable


def configured_uid(configured: str, resolve: Callable[[str], int | None]) -> tuple[int | None, str]:
    """(uid, problem) for an image's USER; problem is "" only for a resolvable non-root user.

    ``resolve`` maps a user name to its uid inside the container, or None when it cannot."""
    user = configured.strip().split(":", 1)[0]
    if not user:
        return 0, "no USER is set, so the container runs as root"
    uid = int(user) if user.isdigit() else resolve(user)
    if uid is None:
        return None, f"USER {configured!r} cannot be resolved to a uid in the container"
    if uid == 0:
        return 0, f"USER {configured!r} is uid 0 (root)"
    return uid, ""
