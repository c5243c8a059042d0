"""Serving the app with uvicorn: one process, or several workers that each build it from the environment.

With more than one worker, uvicorn starts each worker process itself and needs an import string: every
worker calls `create_worker_app`, which reads the same settings from the environment (`serve` exports its
command-line overrides there first). The configuration is checked once, in the parent, before any worker
starts, so a refused configuration still fails in one line."""

import gc
import os

from fastapi import FastAPI

from .config import Settings
from .ops.logs import configure_logging

__all__ = ["WORKER_APP", "create_worker_app", "freeze_startup_heap", "serve"]

WORKER_APP = "cds_service.server:create_worker_app"


def freeze_startup_heap() -> None:
    """Move what start-up loaded (terminology, knowledge, models: ~120,000 objects) out of the collector's
    sight. Full collections then walk only what requests allocate, instead of 40 ms pauses over data that
    lives as long as the process."""
    gc.collect()
    gc.freeze()
    # A 5,000-resource call allocates ~300,000 objects (its JSON): with the default young threshold (700) a full
    # collection ran during most such calls (11-13 ms each); with 50,000, one young collection (5-11 ms) still
    # ran in nearly every such call. Its data is acyclic and freed by reference counts when the call ends, and
    # the count that triggers a collection is allocations minus frees: at 250,000 a call rarely meets one.
    gc.set_threshold(250_000, 20, 100)


def create_worker_app() -> FastAPI:
    """uvicorn's factory in each worker process (settings from HER2_CDS_* variables)."""
    from .app import create_app

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    app = create_app(settings)
    freeze_startup_heap()
    return app


def serve(app: FastAPI, settings: Settings) -> None:
    """Run `app` (already built, so the configuration is known to be good) with the production server
    settings: `settings.workers` processes, uvloop and httptools (uvicorn's "auto" picks them when installed)."""
    import uvicorn

    if settings.workers == 1:
        freeze_startup_heap()
        target: FastAPI | str = app
    else:
        os.environ.update(HER2_CDS_HOST=settings.host, HER2_CDS_PORT=str(settings.port))
        target = WORKER_APP  # each worker builds its own app from the environment
    uvicorn.run(
        target,
        host=settings.host,
        port=settings.port,
        factory=settings.workers > 1,
        workers=settings.workers if settings.workers > 1 else None,
        log_level=settings.log_level.lower(),
        access_log=False,
        log_config=None,  # uvicorn's lines go through the root handler: JSON like the rest
        loop="auto",  # uvloop, and httptools below, when installed (they are dependencies)
        http="auto",
    )
