"""GET /cds-services (CDS Hooks 2.0 §Discovery)."""

from typing import Any

from fastapi import APIRouter, Depends

from ..hooks.discovery import DiscoveryResponse
from ..hooks.response import dump
from .deps import CatalogDep, authenticate

__all__ = ["router"]

router = APIRouter(dependencies=[Depends(authenticate)])


@router.get("/cds-services")
async def discovery(catalog: CatalogDep) -> dict[str, Any]:
    return dump(DiscoveryResponse(services=[spec.descriptor() for spec in catalog.values()]))
