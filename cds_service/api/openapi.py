"""The OpenAPI description (/openapi.json, /docs): one operation per service with its request schema and a sample
request, the responses with their schemas, and the errors the routes really return, as FHIR OperationOutcome.

The hook and feedback routes read their bodies themselves (size and depth bounds before parsing), so FastAPI
cannot see their bodies: the schemas come from the wire models in cds_service/hooks instead."""

import copy
import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from pydantic.json_schema import models_json_schema

from ..catalog import ServiceSpec
from ..config import Settings
from ..hookrequest import RequestError, build_request, bundle_resources
from ..hooks.discovery import DiscoveryResponse
from ..hooks.feedback import FeedbackRequest
from ..hooks.request import HookRequest
from ..hooks.response import HookResponse
from ..terminology import Terminology
from .language import LANGUAGES

__all__ = ["EXAMPLE_PATIENT", "api_description"]

log = logging.getLogger("cds_service.http")

REF = "#/components/schemas/{model}"
# The sample requests: a synthetic patient (IHC 2+ with FISH amplified, early, HR-negative) from examples_dir.
EXAMPLE_PATIENT = "her2-positive-ihc2-ish-amplified.json"
EXAMPLE_ORDERS = {"patient-view": (), "order-select": ("trastuzumab", "pertuzumab"), "order-sign": ("trastuzumab",)}

OPERATION_OUTCOME: dict[str, Any] = {
    "title": "OperationOutcome",
    "description": "FHIR R4 OperationOutcome; issue.expression names the offending field where there is one.",
    "type": "object",
    "required": ["resourceType", "issue"],
    "additionalProperties": False,
    "properties": {
        "resourceType": {"const": "OperationOutcome"},
        "issue": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["severity", "code"],
                "additionalProperties": False,
                "properties": {
                    "severity": {"enum": ["fatal", "error", "warning", "information"]},
                    "code": {"type": "string", "description": "FHIR issue type: invalid, structure, not-found, …"},
                    "diagnostics": {"type": "string"},
                    "expression": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
FEEDBACK_STORED: dict[str, Any] = {
    "title": "FeedbackStored",
    "type": "object",
    "required": ["stored"],
    "properties": {"stored": {"type": "integer", "minimum": 0, "description": "feedback items stored"}},
}

ERRORS = {
    400: "Malformed request: not JSON, too deep, a required field missing or invalid (issue.expression names it), "
    "or a hook that is not this service's.",
    401: "Client authentication (trusted clients are configured): the client JWT is missing or not valid.",
    404: "No CDS service with this id.",
    412: "FHIR data the service needs is neither in prefetch nor obtainable from fhirServer: one issue per "
    "prefetch key, saying why.",
    413: "Too costly: a body over HER2_CDS_MAX_REQUEST_BYTES, more draft orders than HER2_CDS_MAX_DRAFT_ORDERS, "
    "or a record that needs more work than the hook deadline allows.",
    422: "Feedback on a card this service did not issue (or another service issued): one issue per unknown card, "
    "naming feedback.<i>.card; nothing of the request is stored.",
    500: "Internal error, without details (the log has the exception type and where it arose).",
    503: "The service's database is unavailable for now (it checks client JWTs against replays and stores "
    "feedback there); try again after the Retry-After seconds.",
}
LANGUAGE_NOTE = (
    "Cards are in English or Simplified Chinese: the URL prefix (/en, /zh-CN) wins, then ?lang=, then "
    "Accept-Language (q-values honoured; every zh tag gives zh-CN), then HER2_CDS_LANGUAGE."
)


def _json(schema: dict[str, Any], description: str, example: Any = None) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"description": description, "content": {"application/json": content}}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": REF.format(model=name)}


def _errors(*statuses: int, authenticated: bool) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status in sorted({*statuses, 500, *((401, 503) if authenticated else ())}):
        responses[str(status)] = _json(_ref("OperationOutcome"), ERRORS[status])
        if status == 401:
            responses["401"]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string", "const": "Bearer"}}}
        if status == 503:
            responses["503"]["headers"] = {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}}
    return responses


def _schemas(catalog: Mapping[str, ServiceSpec]) -> dict[str, Any]:
    models: list[Any] = [
        (HookRequest, "validation"),
        (FeedbackRequest, "validation"),
        (HookResponse, "serialization"),
        (DiscoveryResponse, "serialization"),
        *((spec.context_model, "validation") for spec in catalog.values()),
    ]
    _, definitions = models_json_schema(models, ref_template=REF)
    schemas: dict[str, Any] = definitions["$defs"]
    for spec in catalog.values():
        # The request as this service takes it: its hook, and that hook's context.
        request = copy.deepcopy(schemas["HookRequest"])
        request["title"] = _request_name(spec)
        request["properties"]["hook"] = {"const": spec.hook}
        request["properties"]["context"] = _ref(spec.context_model.__name__)
        schemas[_request_name(spec)] = request
    schemas["OperationOutcome"] = OPERATION_OUTCOME
    schemas["FeedbackStored"] = FEEDBACK_STORED
    return schemas


def _request_name(spec: ServiceSpec) -> str:
    return "".join(part.capitalize() for part in spec.hook.split("-")) + "Request"


def _examples(
    catalog: Mapping[str, ServiceSpec], terminology: Terminology, settings: Settings
) -> dict[str, dict[str, Any]]:
    """A sample request per service, with a full prefetch; none when the example patient is not there."""
    try:
        bundle = json.loads((settings.examples_dir / EXAMPLE_PATIENT).read_text(encoding="utf-8"))
        resources = bundle_resources(bundle)
        examples = {}
        for spec in catalog.values():
            request = build_request(
                spec.hook, resources, spec.prefetch, terminology, orders=EXAMPLE_ORDERS.get(spec.hook, ())
            )
            request["hookInstance"] = str(uuid.uuid5(uuid.NAMESPACE_URL, spec.id))  # the same document every time
            examples[spec.id] = request
        return examples
    except (OSError, ValueError, RequestError) as exc:
        log.warning("API docs without sample requests: %s", type(exc).__name__)
        return {}


def _language_parameters(prefixed: bool) -> list[dict[str, Any]]:
    header = {
        "name": "Accept-Language",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": "Card language by preference, e.g. `zh-CN, en;q=0.5`.",
    }
    if prefixed:
        path = {"name": "lang", "in": "path", "required": True, "schema": {"enum": list(LANGUAGES)}}
        return [path, header]
    query = {
        "name": "lang",
        "in": "query",
        "required": False,
        "schema": {"type": "string"},
        "description": "Card language (en, zh-CN; any zh tag gives zh-CN); wins over Accept-Language.",
    }
    return [query, header]


def _operations(
    catalog: Mapping[str, ServiceSpec], examples: Mapping[str, Any], *, authenticated: bool, prefixed: bool
) -> dict[str, Any]:
    base = "/{lang}/cds-services" if prefixed else "/cds-services"
    suffix = "_in_language" if prefixed else ""
    tags = ["Language in the URL"] if prefixed else None
    language = [{"name": "lang", "in": "path", "required": True, "schema": {"enum": list(LANGUAGES)}}]
    sample_discovery = {"services": [spec.descriptor().model_dump(exclude_none=True) for spec in catalog.values()]}
    paths: dict[str, Any] = {
        base: {
            "get": {
                "operationId": f"discovery{suffix}",
                "summary": "Discovery: the services, their hooks and prefetch templates",
                "tags": tags or ["Discovery"],
                "parameters": language if prefixed else [],
                "responses": {
                    "200": _json(_ref("DiscoveryResponse"), "The services", sample_discovery),
                    **_errors(authenticated=authenticated),
                },
            }
        }
    }
    for spec in catalog.values():
        body: dict[str, Any] = {"schema": _ref(_request_name(spec))}
        if spec.id in examples:
            body["example"] = examples[spec.id]
        paths[f"{base}/{spec.id}"] = {
            "post": {
                "operationId": f"{spec.id.replace('-', '_')}{suffix}",
                "summary": f"{spec.hook}: {spec.title}",
                "description": f"{spec.description}\n\n{LANGUAGE_NOTE}",
                "tags": tags or ["Hooks"],
                "parameters": _language_parameters(prefixed),
                "requestBody": {"required": True, "content": {"application/json": body}},
                "responses": {
                    "200": _json(_ref("HookResponse"), "The cards"),
                    **_errors(400, 412, 413, authenticated=authenticated),
                },
            }
        }
    service_id = {"name": "service_id", "in": "path", "required": True, "schema": {"enum": list(catalog)}}
    paths[f"{base}/{{service_id}}/feedback"] = {
        "post": {
            "operationId": f"feedback{suffix}",
            "summary": "Feedback on cards: accepted or overridden, stored",
            "tags": tags or ["Feedback"],
            "parameters": [*(language if prefixed else []), service_id],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("FeedbackRequest")}}},
            "responses": {
                "200": _json(_ref("FeedbackStored"), "Stored"),
                **_errors(400, 404, 413, 422, 503, authenticated=authenticated),
            },
        }
    }
    return paths


def api_description(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, built once per app."""
    cached: dict[str, Any] | None = getattr(app.state, "api_description", None)
    if cached is None:
        settings: Settings = app.state.settings
        catalog: Mapping[str, ServiceSpec] = app.state.catalog
        authenticated = settings.trusted_clients_file is not None
        examples = _examples(catalog, app.state.engine.terminology, settings)
        document: dict[str, Any] = {
            "openapi": "3.1.0",
            "info": {
                "title": app.title,
                "version": app.version,
                "description": "CDS Hooks 2.0 service: HER2 decision support for breast cancer. " + LANGUAGE_NOTE,
            },
            "paths": {
                **_operations(catalog, examples, authenticated=authenticated, prefixed=False),
                **_operations(catalog, examples, authenticated=authenticated, prefixed=True),
            },
            "components": {"schemas": _schemas(catalog)},
        }
        if authenticated:
            document["components"]["securitySchemes"] = {
                "clientJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT (CDS Hooks client, aud = URL)"}
            }
            document["security"] = [{"clientJwt": []}]
        app.state.api_description = cached = document
    return cached
