"""create_app(settings): routes, error handlers, and the data loaded once at start-up."""

import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import cache, partial
from pathlib import Path
from typing import Any

import httpx
from fastapi import Depends, FastAPI, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import JSONResponse

from . import __version__, preview
from .api import discovery, feedback, services
from .api.deps import authenticate
from .api.errors import Issue, install_error_handlers, outcome
from .api.language import URL_PREFIX
from .api.openapi import api_description
from .catalog import build_catalog
from .clinical.engine import load_engine
from .config import Settings
from .fhir.guard import UnsafeUrl, normalise_url
from .ops import OperationsMiddleware
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
    _check_exposure(settings, trusted_clients=trusted is not None)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings.database_url)
        limits = httpx.Limits(max_connections=settings.fhir_max_connections)
        pool = ThreadPoolExecutor(settings.engine_threads, thread_name_prefix="her2-engine")
        fhir_transport = MeteredTransport(transport or httpx.AsyncHTTPTransport(limits=limits, trust_env=False))
        # trust_env=False: proxies and .netrc credentials from the environment never see FHIR tokens by accident.
        async with (
            httpx.AsyncClient(transport=fhir_transport, limits=limits, follow_redirects=False, trust_env=False) as http,
            httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False) as keys_http,
        ):
            app.state.http = http
            app.state.engine_pool = pool
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
                pool.shutdown(wait=False, cancel_futures=True)
                del app.state.database
                database.close()

    # The docs routes are added below, behind the hooks' authentication unless configured otherwise.
    app = FastAPI(
        title="HER2 CDS Hooks service",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    # FastAPI's own description would know no request bodies: the hook routes read theirs themselves.
    app.openapi = partial(api_description, app)  # type: ignore[method-assign]
    app.state.settings = settings
    app.state.engine = engine
    app.state.catalog = catalog

    app.add_middleware(OperationsMiddleware, services=tuple(catalog))
    # Added last, so outermost: error responses carry CORS headers too.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type"],
        # Private Network Access: an https page (the Sandbox) calling this service on loopback or a private address.
        allow_private_network=True,
    )

    # Hook calls are most of the traffic: their routes are tried first (no other route matches their paths), and
    # are the app's own routes: FastAPI matches an included router's routes through one more layer on every request.
    # Plain Starlette routes: call_service takes the Request and answers a Response itself, so FastAPI's handler
    # (dependency solving, two exit stacks, telemetry hooks) had nothing to do for it but cost ~0.03 ms a call.
    for prefix in ("", URL_PREFIX):
        app.router.add_route(prefix + services.HOOK_PATH, services.call_service, methods=["POST"])

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    _add_docs(app, settings.api_docs)
    install_error_handlers(app)
    app.include_router(operations.router)
    for router in (discovery.router, feedback.router):
        app.include_router(router)
        app.include_router(router, prefix=URL_PREFIX)  # the same routes, cards in the language the URL names
    if settings.serves_preview:
        app.include_router(preview.router)
        if not settings.on_loopback:
            log.warning(
                "HER2_CDS_PREVIEW=on: /preview is served on %s without authentication (test systems only)",
                settings.host,
            )
    return app


def _check_exposure(settings: Settings, *, trusted_clients: bool) -> None:
    """Secure by default: an open service (no allowlist, no client authentication) stays on loopback."""
    for name, urls in (
        ("HER2_CDS_FHIR_SERVER_ALLOWLIST", settings.fhir_server_allowlist),
        ("HER2_CDS_FHIR_SERVER_ALIASES", [u for pair in settings.fhir_server_aliases.items() for u in pair]),
    ):
        for url in urls:
            try:
                normalise_url(url)
            except UnsafeUrl as exc:
                raise ValueError(f"{name}: an entry is not a plain http(s) URL ({exc})") from None
    if not trusted_clients:
        log.warning("no trusted clients configured: CDS Hooks calls are not authenticated")
    if not settings.fhir_server_allowlist:
        log.warning(
            "no fhirServer allowlist set: the service calls public fhirServers a client names "
            "(loopback, private and link-local addresses are refused)"
        )
    if settings.fhir_server_allowlist or trusted_clients or settings.on_loopback:
        return
    if not settings.allow_insecure:
        raise ValueError(
            f"refusing to listen on {settings.host} with neither HER2_CDS_FHIR_SERVER_ALLOWLIST nor "
            "HER2_CDS_TRUSTED_CLIENTS_FILE: anyone who reaches the port could use the service to call any "
            "server with a token. Set one of them, or HER2_CDS_ALLOW_INSECURE=true for development"
        )
    log.warning(
        "INSECURE: HER2_CDS_ALLOW_INSECURE is set; listening on %s without client authentication or fhirServer "
        "allowlist. Development only: never expose this to a network with real data",
        settings.host,
    )


SWAGGER_DIR = Path(__file__).parent / "api" / "static" / "swagger-ui"
SWAGGER_ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css"}
ASSET_CACHE = {"Cache-Control": "public, max-age=86400"}


@cache
def _swagger_asset(name: str) -> bytes:
    return (SWAGGER_DIR / name).read_bytes()


def _add_docs(app: FastAPI, mode: str) -> None:
    """/openapi.json, /docs and /redoc: behind `authenticate` (a no-op unless trusted clients are configured)."""
    if mode == "off":
        return
    guard = [] if mode == "public" else [Depends(authenticate)]

    @app.get("/openapi.json", include_in_schema=False, dependencies=guard)
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=guard)
    async def docs() -> Any:
        # Swagger UI from the package, not a CDN: hospital networks often have no internet access.
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} - docs",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="data:,",
        )

    # The library's own files, no data: served without authentication like any static asset.
    @app.get("/docs/assets/{name}", include_in_schema=False)
    async def docs_asset(name: str) -> Response:
        if name not in SWAGGER_ASSETS:
            return outcome(404, [Issue(f"no documentation asset '{name[:64]}'", code="not-found")])
        return Response(_swagger_asset(name), media_type=SWAGGER_ASSETS[name], headers=ASSET_CACHE)

    @app.get("/redoc", include_in_schema=False, dependencies=guard)
    async def redoc() -> Any:
        return get_redoc_html(openapi_url="/openapi.json", title=f"{app.title} - ReDoc")
