"""Frozen copy of the former screen of cds_service/clinical/identity.py: the oracle for screen
(tests/unit/test_engine_fast_paths.py)."""

from dataclasses import replace
from typing import Any

from cds_service.clinical.belonging import belongs_to, patient_target
from cds_service.clinical.identity import _Counts, _identity_findings, shape_findings
from cds_service.clinical.record import reference_of
from cds_service.clinical.rules import Finding
from cds_service.fhir import PatientData


def screen(data: PatientData, patient_id: str) -> tuple[PatientData, list[Finding]]:
    """The data without other patients' resources, and the cards that say what was left out and which
    prefetch keys held something other than what they ask for."""
    kept: dict[str, tuple[dict[str, Any], ...]] = {}
    counts = _Counts({}, {})
    own = f"Patient/{patient_id}"  # how nearly every resource of a record names its patient: one comparison
    plain = patient_target(own) == ("Patient", patient_id)  # (what belongs_to would decide for it, too)
    for key, found in data.resources.items():
        keep: list[dict[str, Any]] | None = None  # a copy only once something of this key is left out
        seen: dict[str, set[str]] = {"other": set(), "unconfirmed": set()}
        for at, resource in enumerate(found):
            # The usual shape (`subject.reference` = `Patient/<id>`) without a call; anything else is judged in full.
            holder = resource.get("subject")
            if (
                plain
                and type(holder) is dict
                and holder.get("reference") == own
                and resource.get("resourceType") != "Patient"
            ):
                if keep is not None:
                    keep.append(resource)
                continue
            whose = belongs_to(resource, patient_id)
            if whose == "own" or whose == "none":
                if keep is not None:
                    keep.append(resource)
            else:
                if keep is None:
                    keep = list(found[:at])
                ref = reference_of(resource)
                seen[whose].add(f"{ref}@{id(resource)}" if ref.endswith("/?") else ref)
        kept[key] = found if keep is None else tuple(keep)
        for kind, refs in seen.items():
            if refs:
                getattr(counts, kind)[key] = len(refs)
    findings = _identity_findings(counts)
    findings += shape_findings(data.misplaced)
    if not counts.other and not counts.unconfirmed:
        return data, findings
    return replace(data, resources=kept), findings
