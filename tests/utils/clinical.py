"""Builders of clinically meaningful FHIR resources, coded the way real systems code them.

Dates are relative to today (`ago(days=...)`), because the engine judges recency against the
day of the call (LVEF due dates, pregnancy status, age)."""

import itertools
from datetime import date, timedelta
from typing import Any

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
_ids = itertools.count(1)

IHC_ANSWERS = {
    "0": ("LA6111-4", "0"),
    "1+": ("LA11841-6", "1+"),
    "2+": ("LA11842-4", "2+"),
    "3+": ("LA11843-2", "3+"),
}
RESULT = {
    "positive": ("LA6576-8", "Positive"),
    "negative": ("LA6577-6", "Negative"),
    "equivocal": ("LA11885-3", "Equivocal"),
}
STAGE_CODES = {
    "I": "1222723001",
    "IA": "1222724007",
    "IIA": "1222766008",
    "IIB": "1222769001",
    "IIIA": "1222802001",
    "IIIC": "1222806003",
    "IV": "1222837003",
}
T_CODES = {
    "cT1": "1228889001",
    "cT2": "1228929004",
    "cT3": "1228938002",
    "cT4": "1228944003",
    "ypT0": "1228863001",
    "ypTis": "1228865008",
}
N_CODES = {"cN0": "1229967007", "cN1": "1229973008", "cN2": "1229978004", "ypN0": "1229878000"}
M_CODES = {"cM0": "1229901006", "cM1": "1229903009"}
DRUG_CODES = {
    "trastuzumab": ("224905", "trastuzumab"),
    "pertuzumab": ("1298944", "pertuzumab"),
    "trastuzumab-emtansine": ("1371041", "ado-trastuzumab emtansine"),
    "trastuzumab-deruxtecan": ("2267582", "fam-trastuzumab deruxtecan"),
    "tucatinib": ("2361285", "tucatinib"),
    "neratinib": ("1940643", "neratinib"),
    "lapatinib": ("480167", "lapatinib"),
    "docetaxel": ("72962", "docetaxel"),
    "paclitaxel": ("56946", "paclitaxel"),
    "carboplatin": ("40048", "carboplatin"),
    "capecitabine": ("194000", "capecitabine"),
    "letrozole": ("72965", "letrozole"),
    "fulvestrant": ("282357", "fulvestrant"),
}
CHINESE_ONLY = {
    "pyrotinib": "吡咯替尼",
    "disitamab-vedotin": "注射用维迪西妥单抗",
    "inetetamab": "注射用伊尼妥单抗",
    "trastuzumab-rezetecan": "注射用瑞康曲妥珠单抗",
}


def ago(days: int = 0, *, months: int = 0) -> str:
    return (date.today() - timedelta(days=days + round(months * 30.44))).isoformat()


def _id(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def patient(patient_id: str = "p1", *, age: int = 52, gender: str = "female") -> dict[str, Any]:
    born = date.today().replace(year=date.today().year - age) - timedelta(days=30)
    return {"resourceType": "Patient", "id": patient_id, "gender": gender, "birthDate": born.isoformat()}


def observation(
    code: str,
    value: dict[str, Any],
    *,
    when: str,
    system: str = LOINC,
    patient_id: str = "p1",
    display: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display:
        coding["display"] = display
    resource = {
        "resourceType": "Observation",
        "id": _id("obs"),
        "status": "final",
        "code": {"coding": [coding]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": when,
        **value,
        **extra,
    }
    return resource


def coded(system: str, code: str, display: str) -> dict[str, Any]:
    return {"valueCodeableConcept": {"coding": [{"system": system, "code": code, "display": display}]}}


def her2_ihc(score: str, *, when: str | None = None, **extra: Any) -> dict[str, Any]:
    """LOINC answers for 0 / 1+ / 2+ / 3+; the report texts pathologists write for null and ultralow."""
    if score in ("null", "ultralow"):
        value = {"valueString": "0 (null)" if score == "null" else "0 (ultralow)"}
        return observation("85319-2", value, when=when or ago(months=2), **extra)
    code, display = IHC_ANSWERS[score]
    return observation("85319-2", coded(LOINC, code, display), when=when or ago(months=2), **extra)


def her2_ihc_text(text: str, *, when: str | None = None) -> dict[str, Any]:
    return observation("85319-2", {"valueString": text}, when=when or ago(months=2))


def her2_ish(result: str, *, when: str | None = None, **extra: Any) -> dict[str, Any]:
    code, display = RESULT[result]
    return observation("85318-4", coded(LOINC, code, display), when=when or ago(months=2), **extra)


def ish_numbers(ratio: float, copies: float, *, when: str | None = None) -> list[dict[str, Any]]:
    day = when or ago(months=2)
    return [
        observation("49683-6", {"valueQuantity": {"value": ratio, "unit": "{ratio}"}}, when=day),
        observation("74860-8", {"valueQuantity": {"value": copies, "unit": "/{nucleus}"}}, when=day),
    ]


def her2_interpretation(result: str, *, when: str | None = None) -> dict[str, Any]:
    code, display = RESULT[result]
    return observation("48676-1", coded(LOINC, code, display), when=when or ago(months=2))


def er(positive: bool, *, when: str | None = None) -> dict[str, Any]:
    code, display = RESULT["positive" if positive else "negative"]
    return observation("85337-4", coded(LOINC, code, display), when=when or ago(months=2))


def pr(positive: bool, *, when: str | None = None) -> dict[str, Any]:
    code, display = RESULT["positive" if positive else "negative"]
    return observation("85339-0", coded(LOINC, code, display), when=when or ago(months=2))


def hormone_receptors(positive: bool) -> list[dict[str, Any]]:
    return [er(positive), pr(positive)]


def stage(group: str, *, pathologic: bool = False, when: str | None = None) -> dict[str, Any]:
    code = "21902-2" if pathologic else "21908-9"
    value = coded(SNOMED, STAGE_CODES[group], f"American Joint Committee on Cancer stage {group}")
    return observation(code, value, when=when or ago(months=2))


def tnm(category: str, *, when: str | None = None) -> dict[str, Any]:
    """cT2, cN1, cM0 (SNOMED AJCC codes); ypT0, pT1c ... as text when no code is listed here."""
    kind = category.lstrip("cpy")[0]
    prefix = category[: category.index(kind)]
    observation_code = {
        ("T", "c"): "21905-5",
        ("N", "c"): "21906-3",
        ("M", "c"): "21907-1",
        ("T", "p"): "21899-0",
        ("N", "p"): "21900-6",
        ("M", "p"): "21901-4",
        ("T", "yp"): "21899-0",
        ("N", "yp"): "21900-6",
    }[(kind, prefix)]
    codes = {**T_CODES, **N_CODES, **M_CODES}
    value = coded(SNOMED, codes[category], category) if category in codes else {"valueString": category}
    return observation(observation_code, value, when=when or ago(months=2))


def condition(
    code: str,
    display: str,
    *,
    onset: str | None = None,
    system: str = SNOMED,
    patient_id: str = "p1",
    status: str = "active",
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": _id("cond"),
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": status}]
        },
        "code": {"coding": [{"system": system, "code": code, "display": display}]},
        "subject": {"reference": f"Patient/{patient_id}"},
    }
    if onset:
        resource["onsetDateTime"] = onset
    return resource


def breast_cancer(*, onset: str | None = None) -> dict[str, Any]:
    return condition("254837009", "Malignant neoplasm of breast", onset=onset or ago(months=3))


def metastasis(site: str = "liver", *, onset: str | None = None) -> dict[str, Any]:
    codes = {"liver": "94381002", "bone": "94222008", "lung": "94391008", "brain": "94225005"}
    return condition(codes[site], f"Secondary malignant neoplasm of {site}", onset=onset or ago(months=1))


def medication_concept(drug: str) -> dict[str, Any]:
    if drug in CHINESE_ONLY:
        return {"text": CHINESE_ONLY[drug]}
    code, display = DRUG_CODES[drug]
    return {"coding": [{"system": RXNORM, "code": code, "display": display}], "text": display}


def given(
    drug: str, *, start: str, end: str | None = None, status: str = "completed", patient_id: str = "p1"
) -> dict[str, Any]:
    """A MedicationStatement: a drug the patient received (status active = still on it)."""
    period = {"start": start, **({"end": end} if end else {})}
    return {
        "resourceType": "MedicationStatement",
        "id": _id("ms"),
        "status": status,
        "medicationCodeableConcept": medication_concept(drug),
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectivePeriod": period,
    }


def order(
    drug: str, *, order_id: str | None = None, patient_id: str = "p1", concept: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A draft MedicationRequest, as order-select / order-sign send it."""
    return {
        "resourceType": "MedicationRequest",
        "id": order_id or _id("mr"),
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": concept or medication_concept(drug),
        "subject": {"reference": f"Patient/{patient_id}"},
    }


def lvef(percent: float, *, when: str) -> dict[str, Any]:
    return observation("10230-1", {"valueQuantity": {"value": percent, "unit": "%"}}, when=when)


def pregnant(*, when: str | None = None) -> dict[str, Any]:
    return observation("82810-3", coded(SNOMED, "77386006", "Pregnant"), when=when or ago(days=3))


def brain_metastasis(*, onset: str | None = None) -> dict[str, Any]:
    return metastasis("brain", onset=onset)


def ild() -> dict[str, Any]:
    return condition("233703007", "Interstitial lung disease", onset=ago(months=4))
