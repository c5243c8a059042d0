"""The card preview page (/preview): a developer's and integrator's view of the cards an EHR would show.

On only where it cannot reach real users by accident: `HER2_CDS_PREVIEW=auto` (the default) serves it when the
service listens on loopback."""

from .routes import router

__all__ = ["router"]
