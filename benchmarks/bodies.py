"""Realistic hook bodies of a chosen size: one HER2-positive breast-cancer patient, full prefetch.

The clinical core (HER2 IHC and ISH, ER/PR, stage, LVEF, the cancer, anti-HER2 and chemotherapy orders,
statements) grows with the record as it does in a chart (LVEF every few months, a cycle every three
weeks, comorbidities), and the rest is what fills a real chart: vitals and labs. Prefetch holds every
resource, as a client answering the templates by type (without the code filter) would send it, so a
5,000-resource record is a 5,000-resource body the service has to read."""

import json
import uuid
from typing import Any

from cds_service.hookrequest import searchset

__all__ = ["HOOKS", "PATIENT_ID", "body", "patient_resources"]

PATIENT_ID = "bench-1"
# service id -> hook
HOOKS = {"her2-patient-view": "patient-view", "her2-order-sign": "order-sign"}
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
SUBJECT = {"reference": f"Patient/{PATIENT_ID}"}

# Vitals and labs a chart is mostly made of: (LOINC, display, unit, typical value).
FILLER = (
    ("8867-4", "Heart rate", "/min", 72.0),
    ("8310-5", "Body temperature", "Cel", 36.8),
    ("29463-7", "Body weight", "kg", 61.5),
    ("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", 12.5),
    ("6690-2", "Leukocytes [#/volume] in Blood", "10*3/uL", 6.1),
    ("777-3", "Platelets [#/volume] in Blood", "10*3/uL", 240.0),
    ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", 0.8),
    ("1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L", 22.0),
)
ORDERS = (
    ("224905", "trastuzumab"),
    ("56946", "paclitaxel"),
    ("26225", "ondansetron"),
    ("3264", "dexamethasone"),
)
STATEMENTS = (("6809", "metformin"), ("83367", "atorvastatin"), ("29046", "lisinopril"))
COMORBIDITIES = (("I10", "Essential hypertension"), ("E11.9", "Type 2 diabetes mellitus"), ("E78.5", "Hyperlipidemia"))


def _day(i: int) -> str:
    return f"{2021 + (i // 336) % 5}-{(i // 28) % 12 + 1:02d}-{i % 28 + 1:02d}"


def _coding(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _observation(n: int, code: str, display: str, value: dict[str, Any], day: int, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"obs-{n}",
        "status": "final",
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}
        ],
        "code": _coding(LOINC, code, display),
        "subject": SUBJECT,
        "effectiveDateTime": _day(day),
        **value,
        **extra,
    }


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit}}


def _coded(code: str, display: str) -> dict[str, Any]:
    return {"valueCodeableConcept": _coding(LOINC, code, display)}


def _condition(n: int, system: str, code: str, display: str, day: int, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": f"cond-{n}",
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
        "code": _coding(system, code, display),
        "subject": SUBJECT,
        "onsetDateTime": _day(day),
        **extra,
    }


def _order(n: int, rxnorm: str, name: str, day: int) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": f"mr-{n}",
        "status": "completed",
        "intent": "order",
        "medicationCodeableConcept": _coding(RXNORM, rxnorm, name),
        "subject": SUBJECT,
        "authoredOn": _day(day),
        "dosageInstruction": [{"text": "as directed, every 21 days"}],
    }


def _statement(n: int, rxnorm: str, name: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationStatement",
        "id": f"ms-{n}",
        "status": "active",
        "medicationCodeableConcept": _coding(RXNORM, rxnorm, name),
        "subject": SUBJECT,
    }


def _core() -> list[dict[str, Any]]:
    """Ten resources: enough for the service's HER2-positive cards."""
    stage = {"stage": [{"summary": {"text": "Stage IIA"}}]}
    return [
        {"resourceType": "Patient", "id": PATIENT_ID, "gender": "female", "birthDate": "1970-05-01"},
        _condition(0, SNOMED, "254837009", "Malignant neoplasm of breast", 0, **stage),
        _observation(
            0, "85319-2", "HER2 [Presence] in Breast cancer specimen by Immune stain", _coded("LA11842-4", "2+"), 3
        ),
        _observation(
            1, "85318-4", "HER2 [Presence] in Breast cancer specimen by FISH", _coded("LA6576-8", "Positive"), 10
        ),
        _observation(
            2,
            "85337-4",
            "Estrogen receptor Ag [Presence] in Breast cancer specimen by Immune stain",
            _coded("LA6576-8", "Positive"),
            3,
        ),  # fmt: skip
        _observation(
            3,
            "85339-0",
            "Progesterone receptor Ag [Presence] in Breast cancer specimen by Immune stain",
            _coded("LA6577-6", "Negative"),
            3,
        ),  # fmt: skip
        _observation(4, "21908-9", "Stage group.clinical Cancer", {"valueCodeableConcept": {"text": "Stage IIA"}}, 5),
        _observation(5, "10230-1", "Left ventricular Ejection fraction", _quantity(62.0, "%"), 20),
        _order(0, "224905", "trastuzumab", 30),
        _statement(0, "6809", "metformin"),
    ]


def patient_resources(size: int) -> list[dict[str, Any]]:
    """`size` resources (at least the 10 of the core) of one patient."""
    resources = _core()
    for i in range(len(resources), size):
        slot = i % 20
        if slot == 0:
            resources.append(_observation(i, "10230-1", "Left ventricular Ejection fraction",
                                          _quantity(60.0 - i % 5, "%"), 30 + i))  # fmt: skip
        elif slot in (1, 2, 3):
            rxnorm, name = ORDERS[i % len(ORDERS)]
            resources.append(_order(i, rxnorm, name, 30 + i))
        elif slot == 4:
            resources.append(_statement(i, *STATEMENTS[i % len(STATEMENTS)]))
        elif slot == 5:
            code, display = COMORBIDITIES[i % len(COMORBIDITIES)]
            resources.append(_condition(i, ICD10, code, display, i))
        elif slot == 6 and i % 100 == 6:
            resources.append(_observation(i, "85319-2", "HER2 [Presence] in Breast cancer specimen by Immune stain",
                                          _coded("LA11843-2", "3+"), 40 + i))  # fmt: skip
        else:
            code, display, unit, value = FILLER[i % len(FILLER)]
            resources.append(_observation(i, code, display, _quantity(value + i % 7 * 0.1, unit), i))
    return resources


def _prefetch(templates: dict[str, str], resources: list[dict[str, Any]]) -> dict[str, Any]:
    """Each template answered by resource type: Observations shared out over the Observation keys."""
    by_type: dict[str, list[str]] = {}
    for key, template in templates.items():
        if "?" in template:
            by_type.setdefault(template.split("?")[0], []).append(key)
    found: dict[str, list[dict[str, Any]]] = {key: [] for keys in by_type.values() for key in keys}
    for n, resource in enumerate(resources):
        keys = by_type.get(resource["resourceType"])
        if keys:
            found[keys[n % len(keys)]].append(resource)
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    return {key: (searchset(found[key]) if "?" in template else patient) for key, template in templates.items()}


def body(service: str, size: int, templates: dict[str, str]) -> bytes:
    """One request body, encoded once: the timings measure the server, not the client's JSON."""
    resources = patient_resources(size)
    context: dict[str, Any] = {"userId": "Practitioner/pr-1", "patientId": PATIENT_ID}
    if HOOKS[service] == "order-sign":
        draft = {**_order(999_999, "224905", "trastuzumab", 0), "id": "draft-1", "status": "draft"}
        del draft["authoredOn"]
        context["draftOrders"] = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": draft}]}
    request = {
        "hook": HOOKS[service],
        "hookInstance": str(uuid.uuid4()),
        "context": context,
        "prefetch": _prefetch(templates, resources),
    }
    return json.dumps(request, separators=(",", ":")).encode()
