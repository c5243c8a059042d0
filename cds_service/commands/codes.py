"""`her2-cds codes`: the codes of a patient's record the service does not recognise, and a ConceptMap to map them.

Input is a FHIR Bundle (any type) or a single resource from a file, or a patient read from a FHIR server
with the service's own prefetch queries (Observations unfiltered: a query by the known codes would never
return the unknown ones). Exit 0: every code recognised; 1: codes to map were listed; 2: an error (one line)."""

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..config import Settings

__all__ = ["register"]

ALL_RECOGNISED, CODES_TO_MAP, FAILED = 0, 1, 2
MAX_REFERENCES_SHOWN = 3
MAX_MEDICATION_READS = 50
MAX_FILE_BYTES = 64 * 1024 * 1024


class CodesError(Exception):
    """What went wrong, in one line (never a token, never patient data)."""


def _from_file(path: Path) -> list[dict[str, Any]]:
    from ..hookrequest import RequestError, bundle_resources

    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CodesError(f"{path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CodesError(f"{path}: cannot read ({exc.strerror or type(exc).__name__})") from None
    except ValueError as exc:
        raise CodesError(f"{path}: not JSON ({str(exc).splitlines()[0]})") from None
    try:
        resources = bundle_resources(raw)
    except RequestError as exc:
        raise CodesError(f"{path}: {exc}") from None
    return [_with_patient_reference(r, _full_urls(raw)) for r in resources]


def _full_urls(bundle: Mapping[str, Any]) -> dict[str, str]:
    """`urn:uuid:` fullUrls of a Bundle's entries as `Type/id`: what loading it into a FHIR server makes of them."""
    found = {}
    entries = bundle.get("entry") if bundle.get("resourceType") == "Bundle" else None
    for entry in entries if isinstance(entries, list) else ():
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        url = entry.get("fullUrl") if isinstance(resource, Mapping) else None
        if isinstance(url, str) and url.startswith("urn:") and isinstance(resource, Mapping) and resource.get("id"):
            found[url] = f"{resource.get('resourceType')}/{resource.get('id')}"
    return found


def _with_patient_reference(resource: dict[str, Any], full_urls: Mapping[str, str]) -> dict[str, Any]:
    """The resource with its subject/patient `urn:uuid:` reference resolved within the Bundle (Synthea, mCODE
    exports), so that the patient's resources count as the patient's, as they would once on a server."""
    for field in ("subject", "patient"):
        holder = resource.get(field)
        if not isinstance(holder, Mapping):
            continue
        reference = holder.get("reference")
        if isinstance(reference, str) and reference in full_urls:
            return {**resource, field: {**holder, "reference": full_urls[reference]}}
    return resource


def _patient_in(resources: Sequence[Mapping[str, Any]]) -> str | None:
    ids = {r.get("id") for r in resources if r.get("resourceType") == "Patient" and isinstance(r.get("id"), str)}
    if len(ids) > 1:
        raise CodesError(f"the input holds {len(ids)} Patients: name one with --patient")
    return next(iter(ids), None)


def fhir_queries(templates: Mapping[str, str]) -> dict[str, str]:
    """The service's prefetch queries, with its Observation queries by code replaced by one unfiltered query."""
    from ..catalog import PAGE_SIZE, PATIENT

    queries = {k: v for k, v in templates.items() if not v.startswith("Observation?")}
    queries["observations"] = f"Observation?patient={PATIENT}&_count={PAGE_SIZE}"
    return queries


async def _from_server(
    args: argparse.Namespace, settings: Settings, templates: Mapping[str, str]
) -> list[dict[str, Any]]:
    import httpx

    from ..clinical.record import ORDER_TYPES, external_medication
    from ..fhir import DataUnavailable, FhirClient, gather_patient_data
    from ..fhir.guard import UnsafeUrl

    context = {"patientId": args.patient}
    async with httpx.AsyncClient(timeout=args.timeout) as http:

        def client() -> FhirClient:
            return FhirClient(
                http,
                args.fhir_server,
                args.token,
                timeout=args.timeout,
                max_pages=settings.fhir_max_pages,
                max_response_bytes=settings.fhir_max_response_bytes,
                max_resources=settings.max_resources_per_key,
                max_call_bytes=settings.fhir_max_call_bytes,
            )

        try:
            client()
        except UnsafeUrl as exc:
            raise CodesError(f"--fhir-server: {exc}") from None
        try:
            data = await gather_patient_data(
                fhir_queries(templates),
                context,
                None,
                client,
                deadline_seconds=args.timeout,
                optional=frozenset({"medicationStatements"}),
                explain=True,
            )
            found = [r for key in data.resources for r in data.resources[key]]
            if data.origin.get("patient") and not data.resources.get("patient"):
                raise CodesError(f"Patient/{args.patient} not found on the FHIR server")
            orders = [r for r in found if r.get("resourceType") in {*ORDER_TYPES, "MedicationStatement"}]
            wanted = sorted({m for r in orders if (m := external_medication(r))})
            unavailable = dict(data.unavailable)
            if len(wanted) > MAX_MEDICATION_READS:
                unavailable["Medication"] = f"{len(wanted) - MAX_MEDICATION_READS} more Medications not read"
            if wanted:
                reads = {m: m for m in wanted[:MAX_MEDICATION_READS]}
                medications = await gather_patient_data(
                    {}, context, None, client, deadline_seconds=args.timeout, extra_reads=reads, explain=True
                )
                found += [r for key in medications.resources for r in medications.resources[key]]
                unavailable.update(medications.unavailable)
        except DataUnavailable as exc:
            reasons = set(exc.problems.values())
            said = reasons.pop() if len(reasons) == 1 and len(exc.problems) > 1 else str(exc)
            raise CodesError(f"FHIR server: {said}") from None
    for key in sorted(data.truncated):
        print(f"note: {key} was cut at the paging or size limit; codes beyond it are not listed", file=sys.stderr)
    for key, reason in sorted(unavailable.items()):
        print(f"note: {key} not read ({reason})", file=sys.stderr)
    return found


def _describe(item: Any) -> dict[str, Any]:
    from ..clinical.unmapped import KINDS

    return {
        "kind": item.kind,
        "kindLabel": KINDS[item.kind],
        "system": item.system,
        "code": item.code,
        "displays": item.displays,
        "count": item.count,
        "resources": item.resources,
        "likelyRelevant": item.relevant,
        "readAs": item.read_as,
        "notes": item.notes,
    }


def _table(title: str, items: Sequence[Any]) -> list[str]:
    from ..clinical.unmapped import KINDS

    lines = [f"{title} ({len(items)}):"]
    for item in items:
        mark = "*" if item.relevant else " "
        shown = " / ".join(item.displays[:2]) or "(no display)"
        refs = ", ".join(item.resources[:MAX_REFERENCES_SHOWN])
        if len(item.resources) > MAX_REFERENCES_SHOWN:
            refs += f" +{len(item.resources) - MAX_REFERENCES_SHOWN} more"
        extra = [*([f"read as {item.read_as}"] if item.read_as else []), *item.notes]
        code = f"{item.system or '(no system)'}|{item.code}"
        lines.append(f' {mark} {KINDS[item.kind]:<18} {code}  "{shown}"  x{item.count}  {refs}')
        if extra:
            lines.append(f"   {'':<18} {'; '.join(extra)}")
    return lines


def run(args: argparse.Namespace, settings: Settings) -> int:
    from ..catalog import prefetch_templates
    from ..clinical.unmapped import find_unmapped
    from ..datafiles import DataFileError
    from ..terminology import load_terminology
    from ..terminology.skeleton import concept_map_skeleton

    try:
        if bool(args.source) == bool(args.fhir_server):
            raise CodesError("give a FHIR JSON file, or --fhir-server URL --patient ID (not both)")
        if args.fhir_server and not args.patient:
            raise CodesError("--fhir-server needs --patient ID")
        try:
            terminology = load_terminology(settings.mappings_dir, tuple(settings.concept_maps))
        except (DataFileError, ValueError) as exc:
            raise CodesError(f"mappings or ConceptMaps invalid: {exc}") from None
        if args.fhir_server:
            # The prefetch stage logs each failed key for the service's operator; here the one-line error says it.
            fhir_log = logging.getLogger("cds_service.fhir")
            level = fhir_log.level
            fhir_log.setLevel(logging.ERROR)
            try:
                resources = asyncio.run(_from_server(args, settings, prefetch_templates(terminology)))
            finally:
                fhir_log.setLevel(level)
        else:
            resources = _from_file(Path(args.source))
        patient = args.patient or _patient_in(resources)
        report = find_unmapped(resources, terminology, patient)
        items = [*report.unrecognised, *report.by_text]
        mappable = [i for i in items if i.system]  # a code without a system cannot be a ConceptMap source
        skeleton = concept_map_skeleton(mappable, terminology) if mappable else None
        if args.out and skeleton:
            try:
                Path(args.out).write_text(json.dumps(skeleton, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            except OSError as exc:
                raise CodesError(f"{args.out}: cannot write ({exc.strerror or type(exc).__name__})") from None
    except CodesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return FAILED

    summary = {
        "patient": f"Patient/{patient}" if patient else None,
        "resourcesRead": report.resources_read,
        "leftOutOtherPatients": report.left_out,
        "leftOutRetracted": report.not_usable,
        "localCodesLoaded": terminology.local_code_count,
    }
    if args.json:
        answer: dict[str, Any] = {
            **summary,
            "unrecognised": [_describe(i) for i in report.unrecognised],
            "recognisedOnlyByText": [_describe(i) for i in report.by_text],
        }
        if skeleton and not args.out:
            answer["conceptMap"] = skeleton
        print(json.dumps(answer, indent=2, ensure_ascii=False))
    else:
        whose = f" of Patient/{patient}" if patient else " (no Patient in the input: every resource counted)"
        print(
            f"Read {report.resources_read} resources{whose}; left out {report.left_out} of other or unconfirmed "
            f"patients and {report.not_usable} retracted; {terminology.local_code_count} local codes loaded "
            "from ConceptMaps."
        )
        if not report.unrecognised:
            print("all codes recognised")
        else:
            print("\n".join(["", *_table("Not recognised", report.unrecognised)]))
        if report.by_text:
            print("\n".join(["", *_table("Recognised only by their text (map the code too)", report.by_text)]))
        if not skeleton and args.out:
            print(f"Nothing a ConceptMap can map: {args.out} not written.")
        if items:
            print("\n* likely relevant to HER2 decisions")
            if args.out and skeleton:
                print(
                    f"ConceptMap skeleton written to {args.out}: fill in each target code, set equivalence to "
                    "'equivalent', load it with HER2_CDS_CONCEPT_MAPS, and run this again."
                )
            elif skeleton:
                print("Add --out conceptmap.json to write a ConceptMap skeleton to fill in.")
    return CODES_TO_MAP if report.unrecognised else ALL_RECOGNISED


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    codes = commands.add_parser(
        "codes",
        help="list the codes of a patient's data the service does not recognise, and write a ConceptMap to map them",
        description=(
            "Exit status: 0 every code recognised, 1 codes to map were listed, 2 error. The ConceptMaps the "
            "service loads (mappings/*.conceptmap.json, HER2_CDS_CONCEPT_MAPS) count as recognised."
        ),
    )
    codes.add_argument("source", nargs="?", help="a FHIR Bundle (any type) or a single resource, as JSON")
    codes.add_argument("--fhir-server", metavar="URL", help="read the patient from this FHIR server instead")
    codes.add_argument(
        "--patient", metavar="ID", help="the patient's id (with --fhir-server; or to pick one in a file)"
    )
    codes.add_argument("--token", metavar="T", help="bearer token for --fhir-server (never printed)")
    codes.add_argument("--timeout", type=float, default=30.0, metavar="S", help="seconds for the FHIR reads (30)")
    codes.add_argument("--out", metavar="FILE", help="write a FHIR ConceptMap skeleton for the codes listed here")
    codes.add_argument("--json", action="store_true", help="machine-readable output (the skeleton included)")
    codes.set_defaults(run=run)
