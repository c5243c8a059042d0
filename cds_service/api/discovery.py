"""GET /cds-services (CDS Hooks 2.0 §Discovery)."""

from typing import Any

from fastapi import APIRouter

from ..hooks.discovery import DiscoveryResponse
from ..hooks.response import dump
from .deps import CatalogDep

__all__ = ["router"]

router = APIRouter()


@router.get("/cds-services")
async def discovery(catalog: CatalogDep) -> dict[str, Any]:
    return dump(DiscoveryResponse(services=[spec.descriptor() for spec in catalog.values()]))
