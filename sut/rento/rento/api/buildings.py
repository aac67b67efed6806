"""Buildings: the top of the ownership chain (building -> rooms -> contracts -> bills)."""

from __future__ import annotations

from typing import Any, Dict, Optional

from fastapi import APIRouter, Depends, Path
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from rento.api.common import apply_changes, get_scoped, like_pattern, paginate, scoped_buildings
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
from rento.models import Building, Room
from rento.schemas import BuildingCreate, BuildingOut, BuildingUpdate, Page

router = APIRouter(prefix="/api/buildings", tags=["buildings"])
BuildingId = Path(ge=1, le=2_147_483_647)


@router.get("", response_model=Page[BuildingOut], responses=error_responses(401, 422))
def list_buildings(
    q: Optional[str] = search_param(100, "Search in name and address"),
    params: PageParams = Depends(page_params),
    user: Principal = Depends(current_user),
    db: Session = Depends(get_db),
) -> Dict[str, Any]:
    stmt = scoped_buildings(user.account_id)
    if q:
        pattern = like_pattern(q)
        stmt = stmt.where(
            Building.name.ilike(pattern, escape="\\") | Building.address.ilike(pattern, escape="\\")
        )
    return paginate(db, stmt, Building, params)


@router.post(
    "",
    status_code=201,
    response_model=BuildingOut,
    responses={
        **error_responses(401, 403, 422),
        **links(
            params={**crud_links("building", "building_id"), "list_rooms": "building_id"},
            bodies={"create_room": "building_id"},
        ),
    },
)
def create_building(
    body: BuildingCreate, user: Principal = Depends(require_admin), db: Session = Depends(get_db)
) -> Building:
    building = Building(account_id=user.account_id, **body.model_dump())
    db.add(building)
    db.commit()
    return building


@router.get(
    "/{building_id:int}", response_model=BuildingOut, responses=error_responses(401, 404, 422)
)
def get_building(
    building_id: int = BuildingId,
    user: Principal = Depends(current_user),
    db: Session = Depends(get_db),
) -> Building:
    return get_scoped(db, scoped_buildings(user.account_id), Building, building_id, "building")


@router.patch(
    "/{building_id:int}", response_model=BuildingOut, responses=error_responses(401, 403, 404, 422)
)
def update_building(
    body: BuildingUpdate,
    building_id: int = BuildingId,
    user: Principal = Depends(require_admin),
    db: Session = Depends(get_db),
) -> Building:
    building = get_scoped(db, scoped_buildings(user.account_id), Building, building_id, "building")
    apply_changes(building, body)
    db.commit()
    return building


@router.delete(
    "/{building_id:int}",
    status_code=204,
    response_model=None,
    responses=error_responses(401, 403, 404, 409, 422),
)
def delete_building(
    building_id: int = BuildingId,
    user: Principal = Depends(require_admin),
    db: Session = Depends(get_db),
) -> None:
    building = get_scoped(
        db, scoped_buildings(user.account_id), Building, building_id, "building", lock=True
    )
    if db.scalar(select(exists().where(Room.building_id == building.id))):
        raise conflict("building_has_rooms", "Delete or move the building's rooms first")
    db.delete(building)
    db.commit()
