"""Build a conforming CDS Hooks request from a patient's FHIR Bundle: what an EHR would send.

Used by `her2-cds call`, the preview page and the sample requests in examples/requests/. The prefetch is
what a FHIR server would answer for each of the service's prefetch templates; order hooks get draft
MedicationRequests for the drugs named."""

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .terminology import Terminology

__all__ = [
    "RequestError",
    "build_request",
    "bundle_resources",
    "draft_order",
    "patient_id_of",
    "prefetch_for",
    "searchset",
]

Resource = dict[str, Any]
HOOKS = ("patient-view", "order-select", "order-sign")


class RequestError(ValueError):
    """The bundle or the order cannot make a request; the message says why, in one line."""


def bundle_resources(bundle: Mapping[str, Any]) -> list[Resource]:
    """The resources of a Bundle (any type), or a single resource given instead of a Bundle."""
    if not isinstance(bundle, Mapping) or not isinstance(bundle.get("resourceType"), str):
        raise RequestError("not a FHIR resource: a JSON object with a resourceType is expected")
    if bundle["resourceType"] != "Bundle":
        return [dict(bundle)]
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise RequestError("Bundle.entry is not a list")
    return [e["resource"] for e in entries if isinstance(e, Mapping) and isinstance(e.get("resource"), dict)]


def patient_id_of(resources: Sequence[Resource]) -> str:
    patients = [r.get("id") for r in resources if r.get("resourceType") == "Patient"]
    ids = [p for p in patients if isinstance(p, str) and p]
    if len(ids) != 1:
        found = "no Patient" if not ids else f"{len(ids)} Patients"
        raise RequestError(f"the bundle must hold exactly one Patient with an id ({found} found)")
    return ids[0]


def searchset(resources: Iterable[Resource], next_url: str | None = None) -> Resource:
    entries = [{"resource": r, "search": {"mode": "match"}} for r in resources]
    bundle: Resource = {"resourceType": "Bundle", "type": "searchset", "total": len(entries)}
    if entries:  # FHIR JSON has no empty arrays: an empty search result has no entry at all
        bundle["entry"] = entries
    if next_url:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


def _subject(resource: Mapping[str, Any]) -> str | None:
    reference = (resource.get("subject") or resource.get("patient") or {}).get("reference")
    return reference if isinstance(reference, str) else None


def _matches(template: str, resource: Mapping[str, Any], patient_id: str) -> bool:
    """What a FHIR server would return for one of the prefetch templates (type, patient, code)."""
    resource_type, _, query = template.partition("?")
    if resource.get("resourceType") != resource_type:
        return False
    subject = _subject(resource)
    if subject is None or re.sub(r"^.*/(Patient/[^/]+)(/_history/.*)?$", r"\1", subject) != f"Patient/{patient_id}":
        return False
    codes = parse_qs(urlsplit("?" + query).query).get("code")
    if not codes:
        return True
    wanted = set(codes[0].split(","))
    return any(f"{c.get('system')}|{c.get('code')}" in wanted for c in (resource.get("code") or {}).get("coding", []))


def prefetch_for(templates: Mapping[str, str], resources: Sequence[Resource], patient_id: str) -> dict[str, Any]:
    """A complete prefetch, as a conforming client would send it for these resources."""
    prefetch: dict[str, Any] = {}
    for key, template in templates.items():
        if "?" not in template:
            wanted = template.replace("{{context.patientId}}", patient_id)
            found = [r for r in resources if f"{r.get('resourceType')}/{r.get('id')}" == wanted]
            prefetch[key] = found[0] if found else None
        else:
            prefetch[key] = searchset(r for r in resources if _matches(template, r, patient_id))
    return prefetch


def _concept(name: str, terminology: Terminology) -> Resource:
    """The medicationCodeableConcept for a drug id, product id, brand or name (English or Chinese)."""
    wanted = name.strip().lower()
    for product_id, product in terminology.products.items():
        if wanted in (product_id, *(b.lower() for b in product.brands)):
            brand = product.brands[0] if product.brands else product_id
            label = f"{brand} ({product.nonproprietary})" if product.nonproprietary else brand
            if not product.codes:  # products without a code of their own are ordered by name, as EHRs do
                return {"text": label}
            code = product.codes[0]
            return {
                "coding": [{"system": code.system, "code": code.code, "display": code.display or brand}],
                "text": label,
            }
    for drug_id, drug in terminology.drugs.items():
        if wanted in (drug_id, drug.label.en.lower(), drug.label.zh_CN, *(n.lower() for n in drug.names)):
            if not drug.codes:  # drugs without a code system entry (newer Chinese agents) are ordered by name
                return {"text": drug.label.en}
            code = next((c for c in drug.codes if c.status == "verified"), drug.codes[0])
            display = code.display or drug.label.en
            return {"coding": [{"system": code.system, "code": code.code, "display": display}], "text": drug.label.en}
    known = ", ".join(d for d, drug in terminology.drugs.items() if drug.drug_class.startswith("anti-her2"))
    raise RequestError(f"unknown drug {name!r}; anti-HER2 drugs: {known}; or a brand such as Herceptin, Ogivri")


def draft_order(name: str, terminology: Terminology, patient_id: str, order_id: str) -> Resource:
    """A draft MedicationRequest for a drug, as an EHR's order entry would hold it."""
    return {
        "resourceType": "MedicationRequest",
        "id": order_id,
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": _concept(name, terminology),
        "subject": {"reference": f"Patient/{patient_id}"},
    }


def build_request(
    hook: str,
    resources: Sequence[Resource],
    templates: Mapping[str, str],
    terminology: Terminology,
    *,
    orders: Sequence[str] = (),
    patient_id: str | None = None,
    user_id: str = "Practitioner/example",
) -> Resource:
    """A hook request with a full prefetch. order-select selects every order given; order-sign signs them."""
    if hook not in HOOKS:
        raise RequestError(f"unknown hook {hook!r}; one of {', '.join(HOOKS)}")
    patient = patient_id or patient_id_of(resources)
    context: Resource = {"userId": user_id, "patientId": patient}
    if hook == "patient-view":
        if orders:
            raise RequestError("patient-view takes no order; use order-select or order-sign")
    else:
        if not orders:
            raise RequestError(f"{hook} needs at least one order (--order DRUG)")
        drafts = [draft_order(name, terminology, patient, f"draft-{i + 1}") for i, name in enumerate(orders)]
        context["draftOrders"] = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": d} for d in drafts],
        }
        if hook == "order-select":
            context["selections"] = [f"MedicationRequest/{d['id']}" for d in drafts]
    return {
        "hook": hook,
        "hookInstance": str(uuid.uuid4()),
        "context": context,
        "prefetch": prefetch_for(templates, resources, patient),
    }
