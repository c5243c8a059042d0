"""Request and FHIR resource factories for tests. Prefetch and searchset Bundles are built as `her2-cds call` builds
them (cds_service.hookrequest), so the tests and the sample requests send the same shapes."""

import json
import uuid
from functools import cache
from pathlib import Path
from typing import Any

from cds_service.config import REPO_ROOT
from cds_service.hookrequest import prefetch_for, searchset  # noqa: F401 - re-exported for the tests

EXAMPLES = REPO_ROOT / "examples" / "fhir"
JENNY_BUNDLE = EXAMPLES / "mcode-ig-stu4" / "Bundle-mcode-patient-bundle-jenny-m.json"
JENNY_ID = "cancer-patient-jenny-m"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"


@cache
def _bundle_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def bundle_resources(path: Path) -> list[dict[str, Any]]:
    return [e["resource"] for e in json.loads(_bundle_text(path))["entry"]]


def patient(patient_id: str = "p1") -> dict[str, Any]:
    return {"resourceType": "Patient", "id": patient_id, "gender": "female", "birthDate": "1970-05-01"}


def observation(
    obs_id: str,
    code: str,
    *,
    patient_id: str = "p1",
    system: str = LOINC,
    value: dict[str, Any] | None = None,
    date: str = "2025-03-01",
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": obs_id,
        "status": "final",
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": date,
    }
    resource.update(value or {})
    return resource


def coded(system: str, code: str, display: str) -> dict[str, Any]:
    return {"valueCodeableConcept": {"coding": [{"system": system, "code": code, "display": display}]}}


def breast_cancer(condition_id: str = "c1", patient_id: str = "p1") -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": condition_id,
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
        },
        "code": {
            "coding": [
                {"system": "http://snomed.info/sct", "code": "254837009", "display": "Malignant neoplasm of breast"}
            ]
        },
        "subject": {"reference": f"Patient/{patient_id}"},
    }


def medication_request(
    order_id: str, *, code: str | None = "224905", text: str = "trastuzumab", patient_id: str = "p1"
) -> dict[str, Any]:
    concept: dict[str, Any] = {"text": text}
    if code:
        concept["coding"] = [{"system": RXNORM, "code": code, "display": text}]
    return {
        "resourceType": "MedicationRequest",
        "id": order_id,
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": concept,
        "subject": {"reference": f"Patient/{patient_id}"},
    }


def draft_orders(*orders: dict[str, Any], with_type: bool = True) -> dict[str, Any]:
    bundle: dict[str, Any] = {"resourceType": "Bundle", "entry": [{"resource": o} for o in orders]}
    if with_type:
        bundle["type"] = "collection"
    return bundle


def hook_request(
    hook: str,
    *,
    patient_id: str = "p1",
    prefetch: dict[str, Any] | None = None,
    fhir_server: str | None = None,
    token: str | None = None,
    **context: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": hook,
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/pr-1", "patientId": patient_id, **context},
    }
    if prefetch is not None:
        body["prefetch"] = prefetch
    if fhir_server:
        body["fhirServer"] = fhir_server
    if token:
        body["fhirAuthorization"] = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "her2-cds",
            "patient": patient_id,
        }
    return body
