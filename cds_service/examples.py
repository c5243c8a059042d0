"""Load example FHIR bundles into a FHIR server (docker-compose loader, integration tests).

Collection and transaction bundles become transactions of PUTs with the resources' own ids, so
patients keep stable ids on any server; `urn:uuid` references are rewritten to `Type/id`."""

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

__all__ = ["LoadReport", "load_examples", "to_transaction"]


@dataclass
class LoadReport:
    lines: list[str] = field(default_factory=list)
    ok: bool = True


def _rewrite(node: Any, references: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            k: references.get(v, v) if k == "reference" and isinstance(v, str) else _rewrite(v, references)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite(item, references) for item in node]
    return node


def _invalid(resource: dict[str, Any]) -> str | None:
    try:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    except KeyError:
        return "unknown resource type"
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        return f"{where}: {error['msg']}"[:120] if where else error["msg"][:120]
    return None


def to_transaction(bundle: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A PUT transaction and the warnings about entries that had to be dropped."""
    warnings: list[str] = []
    references: dict[str, str] = {}
    resources: dict[str, dict[str, Any]] = {}
    for position, entry in enumerate(bundle.get("entry") or ()):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not resource.get("resourceType"):
            warnings.append(f"entry {position}: no resource, skipped")
            continue
        full_url = entry.get("fullUrl") or ""
        resource_id = resource.get("id") or (
            full_url.removeprefix("urn:uuid:") if full_url.startswith("urn:uuid:") else None
        )
        if not resource_id:
            warnings.append(f"entry {position}: {resource['resourceType']} without id, skipped")
            continue
        key = f"{resource['resourceType']}/{resource_id}"
        if key in resources:
            warnings.append(f"entry {position}: duplicate {key}, skipped")
            continue
        problem = _invalid(resource)
        if problem:
            # A server rejects the whole transaction for one bad resource; load the rest.
            warnings.append(f"entry {position}: {key} is not valid FHIR ({problem}), skipped")
            continue
        resources[key] = {**resource, "id": resource_id}
        if full_url:
            references[full_url] = key
    entries = [
        {"fullUrl": key, "resource": _rewrite(resource, references), "request": {"method": "PUT", "url": key}}
        for key, resource in resources.items()
    ]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}, warnings


def _files(paths: Iterable[str | Path]) -> list[Path]:
    found: list[Path] = []
    for path in map(Path, paths):
        found.extend(sorted(path.rglob("*.json")) if path.is_dir() else [path])
    return found


def _wait_for(client: httpx.Client, base: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if client.get(f"{base}/metadata").status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(1)


def load_examples(fhir_base: str, paths: Iterable[str | Path], *, wait_seconds: float = 0) -> LoadReport:
    base = fhir_base.rstrip("/")
    report = LoadReport()
    headers = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}
    with httpx.Client(timeout=60, headers=headers) as client:
        if not _wait_for(client, base, wait_seconds):
            return LoadReport([f"FHIR server at {base} did not answer /metadata"], ok=False)
        for path in _files(paths):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                report.lines.append(f"{path.name}: unreadable ({type(exc).__name__}), skipped")
                continue
            if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
                report.lines.append(f"{path.name}: not a FHIR Bundle, skipped")
                continue
            transaction, warnings = to_transaction(data)
            report.lines.extend(f"{path.name}: {w}" for w in warnings)
            if not transaction["entry"]:
                continue
            response = client.post(base, json=transaction)
            statuses = [
                (e.get("response") or {}).get("status", "")
                for e in (response.json().get("entry") or [] if response.status_code < 300 else [])
            ]
            failed = [s for s in statuses if not s.startswith("2")]
            if response.status_code >= 300 or failed:
                report.ok = False
                report.lines.append(f"{path.name}: FAILED (HTTP {response.status_code}, entry statuses {failed[:5]})")
            else:
                report.lines.append(f"{path.name}: {len(statuses)} resources loaded")
    return report
