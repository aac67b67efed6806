"""Placeholders are filled per run; ``{{`` and ``}}`` are literal braces in any templated value."""

from __future__ import annotations

import pytest

from releasegate.config.templating import placeholders, render, render_tree, sole_placeholder
from releasegate.errors import ConfigError

VALUES = {"db.host": "db", "secret.pw": "p4ss"}


def test_placeholders_are_filled() -> None:
    assert render("host={db.host} pw={secret.pw}", VALUES, where="x") == "host=db pw=p4ss"


@pytest.mark.parametrize(("template", "expected"), [
    ("{{db.host}}", "{db.host}"),
    ('{{"host": "{db.host}"}}', '{"host": "db"}'),
    ("${{HOME}}/x", "${HOME}/x"),
    ("{{{db.host}}}", "{db}"),
    ("a }} b {{", "a } b {"),
])
def test_doubled_braces_are_literal(template: str, expected: str) -> None:
    assert render(template, VALUES, where="x") == expected


def test_an_unknown_placeholder_is_still_an_error() -> None:
    with pytest.raises(ConfigError, match=r"commands.x: unknown placeholder \{db.hots\}"):
        render("{db.hots}", VALUES, where="commands.x")


def test_escaped_braces_are_not_placeholders() -> None:
    assert placeholders("{{a}} {b} {{c}}") == ["b"]
    assert sole_placeholder("{b}") == "b"
    assert sole_placeholder("{{b}}") is None and sole_placeholder("x{b}") is None


def test_render_tree_keeps_types_and_shape() -> None:
    tree = {"a": ["{db.host}", 3], "b": {"c": True, "d": "{{x}}"}}
    assert render_tree(tree, VALUES, where="x") == {"a": ["db", 3], "b": {"c": True, "d": "{x}"}}
