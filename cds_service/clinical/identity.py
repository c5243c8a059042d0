"""Patient identity: only resources of the patient in context become facts.

Whatever prefetch or the FHIR server returned, a resource whose `subject` / `patient` names another
patient, or whose patient cannot be confirmed (a logical identifier, a contained or `urn:` reference, a
patient-specific resource with no patient at all), is left out before any fact is read, and a card
says how many were left out and from which key. Never silently.

Reference forms accepted as the patient in context: `Patient/x`, `https://any.base/fhir/Patient/x`
and either with `/_history/n`. An absolute URL is accepted whatever its base: the engine does not
know the EHR's base URL, and ids of one patient compartment are what the client sent."""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..fhir import PatientData
from .belonging import Belonging, belongs_to, patient_target
from .conditions import FactLine
from .record import reference_of
from .rules import Finding

__all__ = ["Belonging", "belongs_to", "screen", "shape_findings"]


@dataclass(frozen=True)
class _Counts:
    other: dict[str, int]
    unconfirmed: dict[str, int]


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


def _identity_findings(counts: _Counts) -> list[Finding]:
    found = []
    if counts.other:
        found.append(
            Finding(
                "data-identity",
                "warning",
                "identity.other_patient",
                args={"count": str(sum(counts.other.values()))},
                details=("identity.other_patient.why",),
                basis=tuple(FactLine("identity.key", f"{k}: {n}") for k, n in sorted(counts.other.items())),
            )
        )
    if counts.unconfirmed:
        found.append(
            Finding(
                "data-identity",
                "warning",
                "identity.unconfirmed",
                args={"count": str(sum(counts.unconfirmed.values()))},
                details=("identity.unconfirmed.why",),
                basis=tuple(FactLine("identity.key", f"{k}: {n}") for k, n in sorted(counts.unconfirmed.items())),
            )
        )
    return found


def shape_findings(misplaced: Mapping[str, tuple[str, ...]]) -> list[Finding]:
    if not misplaced:
        return []
    lines = []
    for key, problems in sorted(misplaced.items()):
        for problem in problems:
            name, _, value = problem.partition(":")
            lines.append(FactLine(f"shape.{name}", f"{key}: {value}" if value else key))
    return [
        Finding(
            "data-shape",
            "warning",
            "shape.summary",
            args={"keys": ", ".join(sorted(misplaced))},
            details=("shape.summary.why",),
            basis=tuple(lines),
        )
    ]
