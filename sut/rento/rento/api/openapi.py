"""OpenAPI links: how the id in one response feeds the next request.

They document the workflow for readers and let schema-driven stateful testing follow it
(create a building, then a room in it, then a contract for that room, ...).
"""

from __future__ import annotations

from typing import Any, Dict, Optional


def links(
    status: int = 201,
    params: Optional[Dict[str, str]] = None,
    bodies: Optional[Dict[str, str]] = None,
    source: str = "$response.body#/id",
) -> Dict[Any, Dict[str, Any]]:
    """``params``: operationId -> path/query parameter; ``bodies``: operationId -> body field."""
    found: Dict[str, Any] = {}
    for operation, parameter in (params or {}).items():
        found[operation] = {"operationId": operation, "parameters": {parameter: source}}
    for operation, field in (bodies or {}).items():
        found[f"{operation}_with_{field}"] = {
            "operationId": operation,
            "requestBody": {field: source},
        }
    return {status: {"links": found}}


def crud_links(resource: str, parameter: str) -> Dict[str, str]:
    """get_x, update_x and delete_x all take the new object's id."""
    return {f"{verb}_{resource}": parameter for verb in ("get", "update", "delete")}
