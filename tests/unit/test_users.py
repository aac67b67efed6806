"""SEC-NONROOT's reading of USER: only a resolvable non-root user passes."""

from __future__ import annotations

import pytest

from releasegate.measure.users import configured_uid

PASSWD = {"rento": 10001, "root": 0, "toor": 0}


def resolve(name: str) -> int | None:
    return PASSWD.get(name)


@pytest.mark.parametrize(("user", "uid"), [("10001:10001", 10001), ("rento", 10001),
                                           ("rento:rento", 10001), ("65534", 65534)])
def test_a_resolvable_non_root_user_passes(user: str, uid: int) -> None:
    assert configured_uid(user, resolve) == (uid, "")


@pytest.mark.parametrize(("user", "words"), [
    ("", "no USER"), ("0", "uid 0"), ("0:0", "uid 0"), ("root", "uid 0"),
    ("toor:users", "uid 0"),  # a name that maps to uid 0 is root by another name
    ("ghost", "cannot be resolved"), ("ghost:10001", "cannot be resolved"),
])
def test_root_unset_and_unresolvable_users_are_violations(user: str, words: str) -> None:
    uid, problem = configured_uid(user, resolve)
    assert words in problem
    assert uid != 10001
