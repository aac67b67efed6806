"""Rooms. Status ``occupied`` is owned by contracts: it cannot be set or cleared by hand."""

from __future__ import annotations

from typing import Any, Dict, Optional

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from rento.api.common import (
    apply_changes,
    get_scoped,
    like_pattern,
    paginate,
    scoped_buildings,
    scoped_rooms,
)
from rento.api.deps import (
    PageParams,
    Principal,
    current_user,
    page_params,
    require_admin,
    search_param,
)
from rento.api.openapi import crud_links, links
from rento.db import get_db
from rento.errors import conflict, error_responses
from rento.models import Building, Contract, Room
from rento.schemas import Page, RoomCreate, RoomOut, RoomStatus, RoomUpdate

router = APIRouter(prefix="/api/rooms", tags=["rooms"])
RoomId = Path(ge=1, le=2_147_483_647)


@router.get("", response_model=Page[RoomOut], responses=error_responses(401, 422))
def list_rooms(
    building_id: Optional[int] = Query(None, ge=1, le=2_147_483_647),
    status: Optional[RoomStatus] = Query(None),
    floor: Optional[int] = Query(None, ge=-10, le=500),
    q: Optional[str] = search_param(32, "Search in room number"),
    params: PageParams = Depends(page_params),
    user: Principal = Depends(current_user),
    db: Session = Depends(get_db),
) -> Dict[str, Any]:
    stmt = scoped_rooms(user.account_id)
    if building_id is not None:
        stmt = stmt.where(Room.building_id == building_id)
    if status is not None:
        stmt = stmt.where(Room.status == status)
    if floor is not None:
        stmt = stmt.where(Room.floor == floor)
    if q:
        stmt = stmt.where(Room.number.ilike(like_pattern(q), escape="\\"))
    return paginate(db, stmt, Room, params)


@router.post(
    "",
    status_code=201,
    response_model=RoomOut,
    responses={
        **error_responses(401, 403, 404, 409, 422),
        **links(
            params={**crud_links("room", "room_id"), "list_contracts": "room_id"},
            bodies={"create_contract": "room_id"},
        ),
    },
)
def create_room(
    body: RoomCreate, user: Principal = Depends(require_admin), db: Session = Depends(get_db)
) -> Room:
    building = get_scoped(
        db, scoped_buildings(user.account_id), Building, body.building_id, "building"
    )
    duplicate = select(
        exists().where(Room.building_id == body.building_id, Room.number == body.number)
    )
    if db.scalar(duplicate):
        raise conflict("room_number_taken", "This building already has a room with that number")
    room = Room(account_id=building.account_id, **body.model_dump())
    db.add(room)
    db.commit()
    return room


@router.get("/{room_id:int}", response_model=RoomOut, responses=error_responses(401, 404, 422))
def get_room(
    room_id: int = RoomId, user: Principal = Depends(current_user), db: Session = Depends(get_db)
) -> Room:
    return get_scoped(db, scoped_rooms(user.account_id), Room, room_id, "room")


@router.patch(
    "/{room_id:int}", response_model=RoomOut, responses=error_responses(401, 403, 404, 409, 422)
)
def update_room(
    body: RoomUpdate,
    room_id: int = RoomId,
    user: Principal = Depends(require_admin),
    db: Session = Depends(get_db),
) -> Room:
    room = get_scoped(db, scoped_rooms(user.account_id), Room, room_id, "room", lock=True)
    if body.status is not None and room.status == "occupied":
        raise conflict("room_occupied", "An occupied room is freed by ending its contract")
    if body.number is not None and body.number != room.number:
        duplicate = select(
            exists().where(Room.building_id == room.building_id, Room.number == body.number)
        )
        if db.scalar(duplicate):
            raise conflict("room_number_taken", "This building already has a room with that number")
    apply_changes(room, body)
    db.commit()
    return room


@router.delete(
    "/{room_id:int}",
    status_code=204,
    response_model=None,
    responses=error_responses(401, 403, 404, 409, 422),
)
def delete_room(
    room_id: int = RoomId, user: Principal = Depends(require_admin), db: Session = Depends(get_db)
) -> None:
    room = get_scoped(db, scoped_rooms(user.account_id), Room, room_id, "room", lock=True)
    if db.scalar(select(exists().where(Contract.room_id == room.id))):
        raise conflict("room_has_contracts", "A room with contracts cannot be deleted")
    db.delete(room)
    db.commit()
