"""Service request and hook contexts (CDS Hooks 2.0 §Calling a CDS Service; hook library 1.0).

Unknown fields and `extension` objects are tolerated, as the spec requires."""

import re
import uuid
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler, HttpUrl, ValidationInfo, field_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

__all__ = [
    "FhirAuthorization",
    "HookContext",
    "HookRequest",
    "OrderSelectContext",
    "OrderSignContext",
    "PatientViewContext",
]

_FHIR_ID = r"[A-Za-z0-9\-.]{1,64}"
_PLAIN_ID = re.compile(rf"{_FHIR_ID}")
_REFERENCE = re.compile(rf"([A-Za-z]+)/({_FHIR_ID})")
# An HTTP header value: printable ASCII without spaces (RFC 6750 b64token is narrower; real tokens vary).
_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")
_UUID_PATTERN = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
_CANONICAL_UUID = re.compile(_UUID_PATTERN[1:-1])  # fullmatch: `$` would let a trailing newline through


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class FhirAuthorization(_Lenient):
    # The schema states what _header_safe enforces.
    access_token: str = Field(min_length=1, json_schema_extra={"pattern": "^[\\x21-\\x7e]+$", "maxLength": 16384})
    token_type: str = Field(json_schema_extra={"pattern": "^[Bb][Ee][Aa][Rr][Ee][Rr]$"})
    expires_in: int
    scope: str = Field(min_length=1)
    subject: str = Field(min_length=1)
    patient: str | None = None

    @field_validator("access_token")
    @classmethod
    def _header_safe(cls, value: str) -> str:
        # It goes into an Authorization header. The message never quotes it: tokens stay out of answers and logs.
        if len(value) > 16384 or not _TOKEN_CHARS.fullmatch(value):
            raise ValueError("must be printable ASCII without spaces, at most 16384 characters")
        return value

    @field_validator("token_type")
    @classmethod
    def _bearer(cls, value: str) -> str:
        if value.lower() != "bearer":  # OAuth token types are case-insensitive (RFC 6749 §5.1)
            raise ValueError("must be Bearer")
        return value


# Schema-only metadata (json_schema_extra): the API description shows the rules the validators below enforce.
_RESOURCE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["resourceType"],
    "properties": {"resourceType": {"type": "string", "minLength": 1}},
}


class HookRequest(_Lenient):
    hook: str = Field(min_length=1, description="The hook that fired; must be the one the service answers.")
    hookInstance: str = Field(
        description="A UUID for this hook call.", json_schema_extra={"format": "uuid", "pattern": _UUID_PATTERN}
    )
    fhirServer: HttpUrl | None = Field(
        default=None,
        description="FHIR base URL for data missing from prefetch (no user info, query or fragment); "
        "only allowlisted or public servers are called.",
    )
    fhirAuthorization: FhirAuthorization | None = Field(
        default=None, description="Bearer token for fhirServer; requires fhirServer."
    )
    context: dict[str, Any] = Field(description="The hook's context (patient-view, order-select or order-sign).")
    prefetch: dict[str, dict[str, Any] | None] | None = Field(
        default=None,
        description="Prefetched FHIR data by the keys of the service's prefetch templates: a resource "
        "(searchset Bundle for searches) or null when the client could not fetch it.",
        json_schema_extra={
            "anyOf": [
                {"type": "object", "additionalProperties": {"anyOf": [_RESOURCE_SCHEMA, {"type": "null"}]}},
                {"type": "null"},
            ]
        },
    )
    extension: dict[str, Any] | None = None

    @field_validator("hookInstance")
    @classmethod
    def _uuid(cls, value: str) -> str:
        if _CANONICAL_UUID.fullmatch(value):  # the usual spelling, settled without building a UUID
            return value
        try:
            uuid.UUID(value)
        except ValueError:
            raise ValueError("must be a UUID") from None
        return value

    @field_validator("fhirServer")
    @classmethod
    def _plain_base(cls, value: HttpUrl | None) -> HttpUrl | None:
        if value is not None and (value.username or value.password or value.query or value.fragment):
            raise ValueError("must be a FHIR base URL without user info, query or fragment")
        return value

    @field_validator("prefetch")
    @classmethod
    def _resources(cls, value: dict[str, dict[str, Any] | None] | None) -> dict[str, dict[str, Any] | None] | None:
        for key, item in (value or {}).items():
            if item is not None and not isinstance(item.get("resourceType"), str):
                raise ValueError(f"prefetch.{key} must be a FHIR resource (with resourceType) or null")
        return value

    @field_validator("fhirAuthorization")
    @classmethod
    def _authorization_needs_server(
        cls, value: FhirAuthorization | None, info: ValidationInfo
    ) -> FhirAuthorization | None:
        if value is not None and info.data.get("fhirServer") is None:
            raise ValueError("fhirServer is required when fhirAuthorization is present")
        return value

    @property
    def fhir_base(self) -> str | None:
        return str(self.fhirServer).rstrip("/") if self.fhirServer else None


def _plain_id(value: str) -> str:
    if not _PLAIN_ID.fullmatch(value):
        raise ValueError("must be a plain FHIR id (no resource type, no slash)")
    return value


class HookContext(_Lenient):
    """Fields shared by patient-view, order-select and order-sign."""

    user_types: ClassVar[frozenset[str]] = frozenset({"Practitioner", "PractitionerRole"})

    userId: str = Field(description="The user: a reference such as Practitioner/123.")
    patientId: str = Field(
        description="The patient's FHIR id (no resource type).", json_schema_extra={"pattern": f"^{_FHIR_ID}$"}
    )
    encounterId: str | None = Field(default=None, json_schema_extra={"pattern": f"^{_FHIR_ID}$"})

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        # The user types differ per hook (patient-view also allows Patient and RelatedPerson).
        schema = handler.resolve_ref_schema(handler(core_schema))
        types = "|".join(sorted(cls.user_types))
        schema["properties"]["userId"]["pattern"] = f"^({types})/{_FHIR_ID}$"
        return schema

    @field_validator("patientId", "encounterId")
    @classmethod
    def _ids(cls, value: str | None) -> str | None:
        return None if value is None else _plain_id(value)

    @field_validator("userId")
    @classmethod
    def _user(cls, value: str) -> str:
        match = _REFERENCE.fullmatch(value)
        if not match or match.group(1) not in cls.user_types:
            raise ValueError(f"must be a reference to one of {', '.join(sorted(cls.user_types))}")
        return value

    def orders_to_check(self) -> list[dict[str, Any]]:
        """The orders the hook asks the service to look at (none outside the order hooks)."""
        return []


class PatientViewContext(HookContext):
    user_types = frozenset({"Practitioner", "PractitionerRole", "Patient", "RelatedPerson"})


def _check_bundle(bundle: dict[str, Any], *, ids: bool) -> dict[str, Any]:
    if bundle.get("resourceType") != "Bundle":
        raise ValueError("must be a FHIR Bundle")
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise ValueError("Bundle.entry must be an array")
    for position, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            raise ValueError(f"entry[{position}] must hold a resource with a resourceType")
        if ids and not isinstance(resource.get("id"), str):
            raise ValueError(f"entry[{position}] needs an id: selections refer to draft orders by id")
    return bundle


def _draft_resources(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry["resource"] for entry in bundle.get("entry", [])]


def _bundle_schema(*, ids: bool) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "type": "object",
        "required": ["resourceType", "id"] if ids else ["resourceType"],
        "properties": {"resourceType": {"type": "string", "minLength": 1}, "id": {"type": "string"}},
    }
    return {
        "type": "object",
        "required": ["resourceType"],
        "properties": {
            "resourceType": {"const": "Bundle"},
            "entry": {
                "type": "array",
                "items": {"type": "object", "required": ["resource"], "properties": {"resource": resource}},
            },
        },
    }


class OrderSignContext(HookContext):
    draftOrders: dict[str, Any] = Field(
        description="A Bundle of the draft orders (MedicationRequest) about to be signed.",
        json_schema_extra=_bundle_schema(ids=False),
    )

    @field_validator("draftOrders")
    @classmethod
    def _bundle(cls, value: dict[str, Any]) -> dict[str, Any]:
        # Orders to be signed need no ids: nothing refers to them.
        return _check_bundle(value, ids=False)

    def orders_to_check(self) -> list[dict[str, Any]]:
        return _draft_resources(self.draftOrders)

    def draft_resources(self) -> list[dict[str, Any]]:
        """Every draft order, checked or not (order-select: the unselected ones too)."""
        return _draft_resources(self.draftOrders)


class OrderSelectContext(OrderSignContext):
    draftOrders: dict[str, Any] = Field(
        description="A Bundle of the draft orders, each with an id.", json_schema_extra=_bundle_schema(ids=True)
    )
    selections: list[str] = Field(
        min_length=1,
        description="The selected orders, as Type/id of entries in draftOrders.",
        json_schema_extra={"items": {"type": "string", "pattern": f"^[A-Za-z]+/{_FHIR_ID}$"}},
    )

    @field_validator("draftOrders")
    @classmethod
    def _bundle(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _check_bundle(value, ids=True)

    @field_validator("selections")
    @classmethod
    def _in_draft_orders(cls, value: list[str], info: ValidationInfo) -> list[str]:
        draft_orders = info.data.get("draftOrders")
        if draft_orders is None:  # already reported as a draftOrders error
            return value
        known = {f"{r['resourceType']}/{r['id']}" for r in _draft_resources(draft_orders)}
        missing = [s for s in value if s not in known]
        if missing:
            raise ValueError(f"not found in draftOrders: {', '.join(missing[:5])}")
        return value

    def orders_to_check(self) -> list[dict[str, Any]]:
        selected = set(self.selections)
        return [r for r in _draft_resources(self.draftOrders) if f"{r['resourceType']}/{r['id']}" in selected]
