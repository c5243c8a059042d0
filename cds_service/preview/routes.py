"""/preview: choose a patient, a hook, an order and a language; see the cards an EHR would get, and the facts.

POST /preview/evaluate builds the hook request an EHR would send (hookrequest.build_request, full prefetch, no
fhirServer) and answers it through `answer_hook`, the hook route's own code, so the cards are the ones an EHR
gets. It never records them as issued cards or counts them in the card metrics: previews are not advice given,
and would skew the per-rule feedback statistics."""

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import resources
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..api.deps import read_json
from ..api.errors import ApiError
from ..api.services import answer_hook
from ..catalog import ServiceSpec
from ..clinical.engine import Engine
from ..clinical.identity import screen
from ..config import Settings
from ..hookrequest import HOOKS, RequestError, build_request, bundle_resources
from ..hooks.response import dump
from ..jsonlimits import JsonRejected, load_bounded
from ..terminology import Terminology
from .facts_view import fact_rows
from .markdown import to_html

__all__ = ["router"]

router = APIRouter(prefix="/preview", include_in_schema=False)
log = logging.getLogger("cds_service.preview")

# Everything is served from this package: the page works with no network at all. The card text is the only
# outside input it shows, as HTML from markdown-it with raw HTML off; the policy is a second fence.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
_ASSETS = {"preview.js": "text/javascript", "preview.css": "text/css"}
_ROLES = {
    "originator": ("originator", "原研药"),
    "biosimilar": ("biosimilar", "生物类似药"),
    "subcutaneous": ("subcutaneous form", "皮下制剂"),
}


class PreviewError(Exception):
    """What went wrong, in one line for the page."""


class PreviewAsk(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hook: Literal["patient-view", "order-select", "order-sign"]
    language: Literal["en", "zh-CN"] = "en"
    example: str | None = Field(default=None, max_length=200)  # a file of Settings.examples_dir, by its stem
    bundle: str | None = None  # pasted or uploaded FHIR JSON, as text: the server says what is wrong with it
    orders: list[str] = Field(default=[], max_length=10)


def _asset(name: str) -> bytes:
    return resources.files(__package__).joinpath("static", name).read_bytes()


@router.get("")
async def page() -> Response:
    return Response(_asset("index.html"), media_type="text/html; charset=utf-8", headers=_HEADERS)


@router.get("/assets/{name}")
async def asset(name: str) -> Response:
    if name not in _ASSETS:
        return JSONResponse({"error": "not found"}, status_code=404)
    return Response(_asset(name), media_type=f"{_ASSETS[name]}; charset=utf-8", headers=_HEADERS)


def _examples(settings: Settings) -> dict[str, Any]:
    folder = settings.examples_dir
    return {path.stem: path for path in sorted(folder.glob("*.json"))} if folder.is_dir() else {}


def order_choices(terminology: Terminology) -> list[dict[str, str]]:
    """Every anti-HER2 drug, then every branded product (originators, biosimilars, subcutaneous forms), named in
    English and Chinese. `value` is what build_request takes: a drug id or a product id."""
    choices = []
    for drug_id, drug in terminology.drugs.items():
        if terminology.is_anti_her2(drug_id):
            choices.append({"value": drug_id, "group": "drug", "en": drug.label.en, "zh-CN": drug.label.zh_CN})
    for product_id, product in terminology.products.items():
        if not product.brands:
            continue  # ordered by name only, the order would not say which product it is
        drug = terminology.drugs[product.drug]
        latin = [b for b in product.brands if b.isascii()]
        chinese = [b for b in product.brands if not b.isascii()]
        role_en, role_zh = _ROLES[product.role]
        en_name = " / ".join(latin or chinese)
        zh_name = " / ".join(chinese + latin)
        choices.append(
            {
                "value": product_id,
                "group": "product",
                "en": f"{en_name} ({role_en}, {product.nonproprietary or drug.label.en})",
                "zh-CN": f"{zh_name}——{drug.label.zh_CN}{role_zh}",
            }
        )
    return choices


@router.get("/options")
async def options(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    engine: Engine = request.app.state.engine
    return JSONResponse(
        {
            "examples": list(_examples(settings)),
            "hooks": list(HOOKS),
            "orders": order_choices(engine.terminology),
            "languages": ["en", "zh-CN"],
            "knowledge": engine.version.label,
        },
        headers={"Cache-Control": "no-store"},
    )


def _service(catalog: Mapping[str, ServiceSpec], hook: str) -> ServiceSpec:
    return next(spec for spec in catalog.values() if spec.hook == hook)


def _bundle(ask: PreviewAsk, settings: Settings) -> dict[str, Any]:
    if (ask.example is None) == (ask.bundle is None):
        raise PreviewError("choose an example patient or paste a FHIR Bundle (one of them)")
    if ask.example is not None:
        path = _examples(settings).get(ask.example)
        if path is None:
            raise PreviewError(f"no example patient named {ask.example!r}")
        raw = path.read_bytes()
    else:
        assert ask.bundle is not None
        raw = ask.bundle.encode("utf-8", "surrogatepass")
        if not raw.strip():
            raise PreviewError("the pasted bundle is empty")
    try:
        bundle = load_bounded(raw)
    except JsonRejected as exc:
        raise PreviewError(f"the bundle is not acceptable JSON: {exc}") from None
    if not isinstance(bundle, dict):
        raise PreviewError("the bundle must be a JSON object (a FHIR Bundle or a single resource)")
    return bundle


def _hook_request(
    ask: PreviewAsk, settings: Settings, service: ServiceSpec, terminology: Terminology
) -> dict[str, Any]:
    """The request an EHR would send: full prefetch from the bundle, no fhirServer (nothing is fetched)."""
    resources = bundle_resources(_bundle(ask, settings))
    orders = [order for order in ask.orders if order.strip()]
    return build_request(ask.hook, resources, service.prefetch, terminology, orders=orders)


def _one_line(exc: ApiError) -> str:
    return "; ".join(issue.diagnostics for issue in exc.issues)


def _problem(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers={"Cache-Control": "no-store"})


@router.post("/evaluate")
async def evaluate(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    engine: Engine = request.app.state.engine
    try:
        body = await read_json(request)
    except ApiError as exc:
        if exc.status == 413:
            return _problem(413, f"the bundle is larger than the {settings.max_request_bytes} bytes a request may be")
        return _problem(exc.status, _one_line(exc))
    try:
        ask = PreviewAsk.model_validate(body)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "body"
        return _problem(400, f"{where}: {error['msg']}")
    service = _service(request.app.state.catalog, ask.hook)
    try:
        # Parsing a pasted bundle of a few MB and building its prefetch take a while: off the event loop.
        hook_request = await asyncio.to_thread(_hook_request, ask, settings, service, engine.terminology)
    except (PreviewError, RequestError) as exc:
        return _problem(400, str(exc))
    try:
        answer = await answer_hook(
            service, hook_request, ask.language, settings, request.app.state.http, request.app.state.engine_pool
        )
    except ApiError as exc:
        return _problem(exc.status, _one_line(exc))
    cards = dump(answer.response)["cards"]
    # The facts of the same data the rules read: screened to the patient in context, as the engine does.
    screened, _ = screen(answer.data, answer.context.patientId)
    facts = await asyncio.to_thread(engine.facts, answer.context, screened, datetime.now(UTC).date())
    rows = fact_rows(engine, facts, ask.language)
    return JSONResponse(
        {
            "service": service.id,
            "knowledge": engine.version.label,
            "cards": cards,
            "detailHtml": [to_html(card.get("detail", "")) for card in cards],
            "facts": [{"label": r.label, "value": r.value, "sources": [s.__dict__ for s in r.sources]} for r in rows],
            "request": hook_request,
        },
        headers={"Cache-Control": "no-store"},
    )
