"""The start-up summary `her2-cds serve` logs once: what this process serves, from which data, with which
protection. It names files, folders and URLs an operator set, never a credential (database passwords and
URL query options are left out)."""

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from . import __version__
from .clinical.engine import Engine
from .config import Settings
from .security.trust import load_trusted_clients

__all__ = ["redacted_database_url", "startup_summary"]

_LISTED_PREFIXES = 5


def startup_summary(settings: Settings, engine: Engine) -> list[str]:
    knowledge, terminology = engine.knowledge, engine.terminology
    lines = [
        f"her2-cds {__version__}: CDS Hooks discovery at {discovery_url(settings)}",
        f"cards in {settings.language} unless a request asks otherwise; jurisdiction {settings.jurisdiction}",
        f"data folders: mappings {settings.mappings_dir}, cards {settings.cards_dir}, "
        f"examples {settings.examples_dir}; {len(settings.concept_maps)} extra ConceptMap file(s)",
        f"knowledge {engine.version.label}: {len(knowledge.entries)} rows, {len(terminology.drugs)} drugs, "
        f"{len(terminology.products)} products, {terminology.local_code_count} local codes loaded",
        _authentication(settings),
        _allowlist(settings),
        f"database: {redacted_database_url(settings.database_url)}",
    ]
    lines.append(f"preview page: {_preview(settings)}")
    return lines


def _preview(settings: Settings) -> str:
    if settings.serves_preview:
        where = discovery_url(settings).removesuffix("/cds-services") + "/preview"
        return f"on at {where} (HER2_CDS_PREVIEW={settings.preview})"
    return f"off (HER2_CDS_PREVIEW={settings.preview})"


def discovery_url(settings: Settings) -> str:
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/") + "/cds-services"
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"http://{host}:{settings.port}/cds-services"


def redacted_database_url(url: str) -> str:
    """The backend and where it is, e.g. `postgresql+psycopg://her2cds:***@db:5432/her2cds`."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "(a URL SQLAlchemy cannot parse)"
    if parsed.password is None and not parsed.query:
        return url  # as written: rendering would escape a SQLite path (":memory:" becomes "%3Amemory%3A")
    shown = parsed.set(query={}).render_as_string(hide_password=True)
    return shown + (" (with query options)" if parsed.query else "")


def _authentication(settings: Settings) -> str:
    if settings.trusted_clients_file is None:
        return "authentication: none, calls are not authenticated (HER2_CDS_TRUSTED_CLIENTS_FILE unset)"
    clients = load_trusted_clients(settings.trusted_clients_file)  # already validated by create_app
    return (
        f"authentication: client JWT required, {len(clients)} trusted client(s) from "
        f"{settings.trusted_clients_file}; audience {settings.public_base_url}"
    )


def _allowlist(settings: Settings) -> str:
    prefixes = settings.fhir_server_allowlist
    if not prefixes:
        return "fhirServer allowlist: none, any public server a client names (loopback, private, link-local refused)"
    shown = ", ".join(prefixes[:_LISTED_PREFIXES]) + (", …" if len(prefixes) > _LISTED_PREFIXES else "")
    aliases = f"; {len(settings.fhir_server_aliases)} alias(es)" if settings.fhir_server_aliases else ""
    return f"fhirServer allowlist: {len(prefixes)} prefix(es): {shown}{aliases}"
