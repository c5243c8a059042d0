"""One Settings object; every value can be set by an environment variable prefixed HER2_CDS_."""

import ipaddress
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["DATA_ROOT", "FROM_CHECKOUT", "REPO_ROOT", "Settings"]

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
# The wheel carries cards/, mappings/ and examples/synthetic under cds_service/_data (copied there by setup.py
# at build time), in the same layout as the checkout; the checkout keeps them at the top level.
FROM_CHECKOUT = (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "cards").is_dir()
DATA_ROOT = REPO_ROOT if FROM_CHECKOUT else PACKAGE_DIR / "_data"


def _default_database_url() -> str:
    """A checkout keeps its database in <checkout>/var; an installed service never writes inside site-packages,
    so it uses ./var under the working directory it is started from."""
    folder = REPO_ROOT / "var" if FROM_CHECKOUT else Path.cwd() / "var"
    return f"sqlite:///{folder / 'feedback.sqlite3'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HER2_CDS_", frozen=True, extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    # uvicorn worker processes; one per core for throughput (`make run` and the image use 2).
    workers: int = Field(default=1, ge=1, le=64)
    log_level: str = "INFO"
    # One JSON object per line (with the request id), or plain text for a developer's terminal.
    log_format: Literal["json", "text"] = "json"

    # The one database: feedback, issued cards, and what replicas share (used client JWTs, JWK Sets).
    # Any SQLAlchemy URL; the default is an embedded SQLite file; PostgreSQL (postgresql+psycopg://) for replicas.
    database_url: str = Field(default_factory=_default_database_url)

    # Larger requests get 413. A full prefetch of a 5,000-resource record is about 2.5 MB; parsing a body holds
    # Python's GIL (about 10 ms per MB here), so the cap also bounds how long /healthz can wait behind it.
    max_request_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)

    mappings_dir: Path = DATA_ROOT / "mappings"
    cards_dir: Path = DATA_ROOT / "cards"
    # Example patients (FHIR Bundles) for `her2-cds call` and the preview page.
    examples_dir: Path = DATA_ROOT / "examples" / "synthetic"
    # Extra FHIR ConceptMap files with local codes (comma-separated paths), besides mappings/*.conceptmap.json.
    concept_maps: Annotated[list[Path], NoDecode] = []
    # Card language unless a request asks for another (URL prefix /en or /zh-CN, ?lang=, Accept-Language).
    language: Literal["en", "zh-CN"] = "en"
    # Whose biosimilar rules and approvals the cards speak of: China (the consensus's own), the US or the EU.
    jurisdiction: Literal["CN", "US", "EU"] = "CN"

    # One deadline for everything a hook call does; FHIR fallback must fit inside it.
    hook_deadline_seconds: float = Field(default=5.0, gt=0)
    fhir_request_timeout_seconds: float = Field(default=3.0, gt=0)
    fhir_max_pages: int = Field(default=20, ge=1)
    fhir_max_connections: int = Field(default=20, ge=1)
    # URL prefixes the service may call as fhirServer (empty: any). Guards against SSRF and token leaks.
    fhir_server_allowlist: Annotated[list[str], NoDecode] = []
    # "client URL=service URL" pairs, for a FHIR server the service reaches under another name than the
    # EHR does (docker-compose, reverse proxies, split DNS). Links under the client URL are rewritten too.
    fhir_server_aliases: Annotated[dict[str, str], NoDecode] = {}
    # Bounds on what one hook call may make the service read or compute (see README, Security).
    fhir_max_response_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)  # per answer, on the wire and decompressed
    # All FHIR answers of one hook call together (keys, pages, Medication reads): bounds a call's memory.
    fhir_max_call_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    max_resources_per_key: int = Field(default=2000, ge=1)  # more is cut, and the cards say the record was cut
    max_draft_orders: int = Field(default=200, ge=1)  # more in draftOrders: 413
    max_medication_reads: int = Field(default=20, ge=0)  # Medications read from fhirServer per call; the rest: a card
    engine_threads: int = Field(default=4, ge=1)  # the rules run off the event loop, so /healthz always answers
    # A record of at most this many resources is evaluated on the event loop: its rules take a few milliseconds
    # (linear, ~5 µs a resource), less than the hand-over to a worker thread costs a busy server in CPU (GIL
    # contention with the event loop). Larger records go to the engine threads, where the deadline applies.
    engine_inline_resources: int = Field(default=1000, ge=0)
    # Secure by default. A bind beyond loopback with neither an allowlist nor trusted clients refuses to start
    # unless this development switch is set (a loud warning is logged then).
    allow_insecure: bool = False
    # 412 texts name network details (HTTP status, refused vs timed out) only with this switch; the log always does.
    debug_errors: bool = False
    # /docs, /redoc and /openapi.json: "auth" (the same authentication as the hooks), "public" or "off".
    api_docs: Literal["auth", "public", "off"] = "auth"
    # The card preview page (/preview), a development and integration tool without authentication of its own:
    # "auto" serves it only when the service listens on loopback; "off" removes it (404).
    preview: Literal["auto", "on", "off"] = "auto"

    # Client authentication: a YAML allowlist of JWT issuers (see config/trusted-clients.example.yaml).
    # When set, every call must carry a valid client JWT; when unset, calls are not authenticated.
    trusted_clients_file: Path | None = None
    # The service's URL as clients see it (e.g. https://cds.example.org), for the JWT `aud` check.
    public_base_url: str | None = None
    # Client key servers (jku): a wall-clock bound on a whole JWK Set fetch, its size cap, and how long a
    # failed fetch is remembered (no replica fetches that URL again meanwhile).
    jwks_timeout_seconds: float = Field(default=3.0, gt=0)
    jwks_max_bytes: int = Field(default=64 * 1024, ge=1024)
    jwks_negative_ttl_seconds: float = Field(default=60.0, ge=0)

    # Browser clients such as the CDS Hooks Sandbox need CORS; "*" is safe here because no cookies are used.
    cors_origins: Annotated[list[str], NoDecode] = ["*"]

    @property
    def on_loopback(self) -> bool:
        """The bind host is loopback: the service is reachable from this machine only."""
        if self.host.lower() in ("localhost", "localhost."):
            return True
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback
        except ValueError:
            return False

    @property
    def serves_preview(self) -> bool:
        return self.preview == "on" or (self.preview == "auto" and self.on_loopback)

    @field_validator("fhir_server_allowlist", "cors_origins", "concept_maps", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("fhir_server_aliases", mode="before")
    @classmethod
    def _split_pairs(cls, value: object) -> object:
        if isinstance(value, str):
            pairs = [item.split("=", 1) for item in value.split(",") if item.strip()]
            if any(len(pair) != 2 for pair in pairs):
                raise ValueError("expected 'client URL=service URL' pairs separated by commas")
            return {client.strip().rstrip("/"): service.strip().rstrip("/") for client, service in pairs}
        return value
