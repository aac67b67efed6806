"""Server-rendered HTML overview of the caller's rooms and renters.

Jinja2 autoescaping is on for every template, so stored names like ``<script>`` render as text.
The only script is the application's own file (``/static/dashboard.js``), which reads the
figures from a JSON data block and shows the occupancy; the Content-Security-Policy allows
scripts from this origin only (no inline script) and the one inline style block, by hash.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rento.api.deps import Principal, current_user_or_cookie
from rento.db import get_db
from rento.errors import error_responses
from rento.models import Account, Building, Renter, Room

router = APIRouter(tags=["pages"])

LIMIT = 200
_env = Environment(
    loader=FileSystemLoader(str(Path(__file__).resolve().parent.parent / "templates")),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}"
    "table{border-collapse:collapse;margin-bottom:2rem}"
    "th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}"
    "th{background:#f3f3f3}.note{color:#666}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
CSP = (
    "default-src 'none'; script-src 'self'; "
    f"style-src 'sha256-{_STYLE_HASH}'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


_SCRIPT = Path(__file__).resolve().parent.parent / "templates" / "dashboard.js"


@router.get("/static/dashboard.js", include_in_schema=False)
def dashboard_script() -> Response:
    return Response(
        _SCRIPT.read_bytes(),
        media_type="text/javascript",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=300"},
    )


@router.get(
    "/dashboard",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}}, **error_responses(401)},
)
def dashboard_page(
    request: Request,
    user: Principal = Depends(current_user_or_cookie),
    db: Session = Depends(get_db),
) -> HTMLResponse:
    acc = user.account_id
    account_name = db.scalar(select(Account.name).where(Account.id == acc)) or ""
    rooms: Any = db.execute(
        select(Room, Building.name)
        .join(Building, Room.building_id == Building.id)
        .where(Room.account_id == acc)
        .order_by(Room.id)
        .limit(LIMIT)
    ).all()
    renters = db.scalars(
        select(Renter).where(Renter.account_id == acc).order_by(Renter.id).limit(LIMIT)
    ).all()
    room_counts = db.execute(
        select(func.count(), func.count().filter(Room.status == "occupied")).where(
            Room.account_id == acc
        )
    ).one()
    renter_count = db.scalar(select(func.count()).where(Renter.account_id == acc))
    html = _env.get_template("dashboard.html").render(
        account_name=account_name,
        rooms=rooms,
        renters=renters,
        limit=LIMIT,
        style=_STYLE,
        stats={"rooms": room_counts[0], "occupied": room_counts[1], "renters": renter_count},
    )
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
        },
    )
