"""Dotted paths into JSON answers: ``data.token``, ``items.0.id``.

A segment of digits indexes an array; the empty path is the whole document. One definition for
the login recipe, flow captures and expectations, and alert matching.
"""

from __future__ import annotations

from typing import Any

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "<missing>"})()
"""What a path that leads nowhere yields (distinct from a JSON null)."""


def dig(document: Any, path: str) -> Any:
    node = document
    for segment in path.split(".") if path else []:
        if isinstance(node, dict) and segment in node:
            node = node[segment]
        elif isinstance(node, list) and segment.lstrip("-").isdigit() and (
                -len(node) <= int(segment) < len(node)):
            node = node[int(segment)]
        else:
            return MISSING
    return node
