"""create_app(settings): routes, error handlers, and the data loaded once at start-up."""

import logging
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware

from . import __version__
from .api import discovery, feedback, services
from .api.errors import Issue, install_error_handlers, outcome
from .catalog import build_catalog
from .clinical.engine import load_engine
from .config import Settings
from .ops import PROBES, OperationsMiddleware
from .ops import routes as operations
from .ops.metrics import MeteredTransport
from .security import ClientVerifier, JwksPolicy, load_trusted_clients
from .store import Database, FeedbackStore, IssuedCards, JwksCache, ReplayGuard

__all__ = ["create_app"]

log = logging.getLogger("cds_service.http")
# httpx logs every request URL at INFO, and FHIR URLs carry patient ids.
logging.getLogger("httpx").setLevel(logging.WARNING)


def create_app(settings: Settings | None = None, *, transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """`transport` replaces the network for the outbound FHIR client (tests, embedding)."""
    settings = settings or Settings()
    # Data files are validated here, before the server listens: a bad file stops start-up.
    engine = load_engine(
        settings.mappings_dir, settings.cards_dir, tuple(settings.concept_maps), jurisdiction=settings.jurisdiction
    )
    catalog = build_catalog(engine)
    trusted = load_trusted_clients(settings.trusted_clients_file) if settings.trusted_clients_file else None
    if trusted is not None and not settings.public_base_url:
        raise ValueError("HER2_CDS_PUBLIC_BASE_URL is required with trusted clients: it is the JWT audience")
    if trusted is None:
        log.warning("no trusted clients configured: CDS Hooks calls are not authenticated")
    if not settings.fhir_server_allowlist:
        log.warning("no fhirServer allowlist set: the service will call any fhirServer a client names")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings.database_url)
        limits = httpx.Limits(max_connections=settings.fhir_max_connections)
        fhir_transport = MeteredTransport(transport or httpx.AsyncHTTPTransport(limits=limits))
        async with (
            httpx.AsyncClient(transport=fhir_transport, limits=limits, follow_redirects=False) as http,
            httpx.AsyncClient(transport=transport, follow_redirects=False) as keys_http,
        ):
            app.state.http = http
            app.state.verifier = (
                ClientVerifier(
                    trusted,
                    keys_http,
                    replay=ReplayGuard(database, grace_seconds=60),
                    jwks_cache=JwksCache(database),
                    policy=JwksPolicy(
                        timeout_seconds=settings.jwks_timeout_seconds,
                        max_bytes=settings.jwks_max_bytes,
                        negative_ttl_seconds=settings.jwks_negative_ttl_seconds,
                    ),
                )
                if trusted
                else None
            )
            app.state.feedback_store = FeedbackStore(database)
            app.state.issued_cards = IssuedCards(database)
            app.state.database = database
            try:
                yield
            finally:
                del app.state.database
                database.close()

    app = FastAPI(title="HER2 CDS Hooks service", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.catalog = catalog

    @app.middleware("http")
    async def access_log(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception as exc:
            # Exception messages may quote patient data: log the type and where it arose, never the message.
            frames = traceback.extract_tb(exc.__traceback__)[-4:]
            where = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))
            log.error("internal error %s at %s", type(exc).__name__, where)
            response = outcome(500, [Issue("internal error", code="exception")])
        # Path only: it names the service, never the patient; query strings and bodies are not logged.
        # Probes (health, readiness, metrics) come every few seconds: DEBUG, so they do not drown the log.
        log.log(
            logging.DEBUG if request.url.path in PROBES else logging.INFO,
            "%s %s %d %.1fms",
            request.method,
            request.url.path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response

    app.add_middleware(OperationsMiddleware, services=tuple(catalog))
    # Added last, so outermost: error responses carry CORS headers too.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type"],
    )

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    install_error_handlers(app)
    app.include_router(operations.router)
    app.include_router(discovery.router)
    app.include_router(services.router)
    app.include_router(feedback.router)
    return app
