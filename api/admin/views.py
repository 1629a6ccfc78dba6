"""POST /v1/regions and POST /v1/users (admin)."""

from __future__ import annotations

from fastapi import APIRouter

from api.admin import service
from api.admin.models import Region, RegionIn, User, UserIn
from api.deps import AdminUser, ClientAddr, Conn
from api.responses import errors

router = APIRouter(prefix="/v1", tags=["admin"])


@router.post("/regions", response_model=Region, status_code=201, responses=errors(403, 409))
async def create_region(body: RegionIn, conn: Conn, admin: AdminUser, addr: ClientAddr) -> Region:
    """Create a health centre's region."""
    return await service.create_region(conn, admin, body, addr)


@router.post("/users", response_model=User, status_code=201, responses=errors(403, 409))
async def create_user(body: UserIn, conn: Conn, admin: AdminUser, addr: ClientAddr) -> User:
    """Create a care worker, centre staff member or admin."""
    return await service.create_user(conn, admin, body, addr)
