"""Prefetch semantics of CDS Hooks 2.0 (§Prefetch): use what the client sent, fetch the rest.

- a key with a resource or Bundle: used as given (a Bundle's `next` links are followed);
- a key with `null`: the client says there is no data; not queried again;
- a key with an OperationOutcome: the client failed to get it, so the service fetches it;
- a missing key: fetched from fhirServer with the access token;
- anything needed that cannot be had: DataUnavailable, which the API answers with 412.

Besides the templates, a hook may ask for best-effort reads (e.g. the Medication an order names
by reference); what they cannot get is reported in `PatientData.unavailable`, not raised."""

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any, Literal
from urllib.parse import quote

from .client import FhirClient, FhirError, SearchResult, bundle_resources, next_link

__all__ = ["DataUnavailable", "Origin", "PatientData", "gather_patient_data", "render_template"]

Origin = Literal["prefetch", "prefetch-null", "fhir"]
log = logging.getLogger("cds_service.fhir")
_TOKEN = re.compile(r"\{\{\s*context\.([A-Za-z]+)\s*\}\}")


class DataUnavailable(Exception):
    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{key}: {reason}" for key, reason in sorted(problems.items())))
        self.problems = dict(problems)


@dataclass(frozen=True)
class PatientData:
    resources: Mapping[str, tuple[dict[str, Any], ...]]
    origin: Mapping[str, Origin]
    truncated: frozenset[str] = frozenset()  # keys whose paging stopped at the cap
    unavailable: Mapping[str, str] = field(default_factory=dict)  # best-effort reads that failed, with why
    # Keys whose content is not what their template asks for (wrong type, a Bundle where one resource
    # belongs, a single resource or an odd Bundle type where a search Bundle belongs). The content is
    # still used (identity is checked per resource downstream); cards report each problem code.
    misplaced: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def of(self, *keys: str) -> tuple[dict[str, Any], ...]:
        return tuple(r for key in keys for r in self.resources.get(key, ()))


def render_template(template: str, context: Mapping[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        field = match.group(1)
        if not isinstance(context.get(field), str):
            raise KeyError(f"prefetch token context.{field} has no value")
        return quote(context[field], safe="")

    return _TOKEN.sub(value, template)


def _is_read(template: str) -> bool:
    return "?" not in template


Job = Callable[[FhirClient], Awaitable[SearchResult]]
_MISSING: dict[str, Any] = {}  # sentinel: the client did not send the key
_SEARCH_BUNDLES = ("searchset", "collection")
# Besides the type a key asks for: Medications and the actors a server `_include`s with orders, and
# search OperationOutcomes. None of them carries clinical content the engine could miss.
_ALSO_ALLOWED = frozenset({"Medication", "OperationOutcome", "Practitioner", "PractitionerRole", "Organization"})


@lru_cache(maxsize=256)  # the catalog's templates: a handful
def _wanted_type(template: str) -> str:
    return template.split("?")[0].split("/")[0]


def _fetch(template: str, url: str) -> Job:
    return partial(FhirClient.read if _is_read(template) else FhirClient.search, url=url)


async def gather_patient_data(
    templates: Mapping[str, str],
    context: Mapping[str, Any],
    prefetch: Mapping[str, dict[str, Any] | None] | None,
    fhir: Callable[[], FhirClient],
    deadline_seconds: float,
    extra_reads: Mapping[str, str] | None = None,
    optional: frozenset[str] = frozenset(),
    max_resources: int | None = None,
    not_read: Mapping[str, str] | None = None,
    explain: bool = False,
) -> PatientData:
    """`fhir` builds the client lazily and raises FhirError when the server cannot be used.

    A key in `optional` that cannot be had is recorded in `unavailable` (cards then say the record
    was read in part) instead of failing the call with 412. `max_resources` caps each key (a Bundle given in
    prefetch too; cut keys count as truncated); `not_read` are best-effort reads skipped by the caller, with why."""
    given = prefetch or {}
    resources: dict[str, tuple[dict[str, Any], ...]] = {}
    misplaced: dict[str, list[str]] = {}
    origin: dict[str, Origin] = {}
    work: dict[str, Job] = {}

    for key, template in templates.items():
        value = given.get(key) if key in given else _MISSING
        if value is None:
            resources[key], origin[key] = (), "prefetch-null"
            continue
        kind = value.get("resourceType")  # read once (_MISSING has none)
        if value is _MISSING or kind == "OperationOutcome":
            work[key], origin[key] = _fetch(template, render_template(template, context)), "fhir"
        elif kind == "Bundle" and not _is_read(template):
            origin[key] = "prefetch"
            if value.get("type") not in _SEARCH_BUNDLES:
                misplaced.setdefault(key, []).append(f"bundle-type:{value.get('type') or '-'}")
            if next_link(value):
                work[key] = partial(FhirClient.complete, bundle=value)
            else:
                resources[key] = tuple(bundle_resources(value))
        elif kind == "Bundle":
            # A Bundle where one resource belongs (`patient`): its resources are read, and it is reported.
            resources[key], origin[key] = tuple(bundle_resources(value)), "prefetch"
            misplaced.setdefault(key, []).append("bundle-for-read")
        else:
            resources[key], origin[key] = (value,), "prefetch"
            if not _is_read(template):
                misplaced.setdefault(key, []).append("not-a-bundle")

    for key, url in (extra_reads or {}).items():
        work[key], origin[key] = _fetch(url, url), "fhir"

    truncated: set[str] = set()
    unavailable: dict[str, str] = dict(not_read or {})
    if work:
        try:
            client = fhir()
        except FhirError as exc:
            problems = {key: str(exc) for key in work}
            results: dict[str, SearchResult] = {}
        else:
            jobs = {key: job(client) for key, job in work.items()}
            results, problems = await _run_all(jobs, deadline_seconds, explain)
        required = {key: reason for key, reason in problems.items() if key in templates and key not in optional}
        if required:
            raise DataUnavailable(required)
        unavailable.update(problems)
        for key, result in results.items():
            resources[key] = result.resources
            if result.truncated:
                truncated.add(key)
    if max_resources is not None:
        for key, found in resources.items():
            if len(found) > max_resources:
                resources[key] = found[:max_resources]
                truncated.add(key)
    for key, template in templates.items():
        wanted = _wanted_type(template)
        # One comparison per resource: only the few of another type are named (str: a type may be any JSON).
        other = {str(kind) for r in resources.get(key, ()) if (kind := r.get("resourceType")) != wanted}
        if other and (odd := sorted(other.difference(_ALSO_ALLOWED, (wanted,)))):
            misplaced.setdefault(key, []).extend(f"type:{kind}" for kind in odd)
    return PatientData(
        resources=resources,
        origin=origin,
        truncated=frozenset(truncated),
        unavailable=unavailable,
        misplaced={key: tuple(problems) for key, problems in misplaced.items() if problems},
    )


async def _run_all(
    jobs: Mapping[str, Awaitable[SearchResult]], deadline_seconds: float, explain: bool = False
) -> tuple[dict[str, SearchResult], dict[str, str]]:
    tasks = {key: asyncio.ensure_future(job) for key, job in jobs.items()}
    done, pending = await asyncio.wait(tasks.values(), timeout=deadline_seconds)
    for task in pending:
        task.cancel()
    problems: dict[str, str] = {}
    results: dict[str, SearchResult] = {}
    for key, task in tasks.items():
        if task in pending:
            problems[key] = f"no answer within the hook deadline ({deadline_seconds:g} s)"
        elif isinstance(error := task.exception(), FhirError):
            # The detail (HTTP status, exception type) is for the operator; callers get it only in debug mode.
            log.warning("FHIR data for key=%s not obtained: %s", key, error.detail)
            problems[key] = error.detail if explain else str(error)
        else:
            results[key] = task.result()  # re-raises unexpected errors as bugs (500), never hidden
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
    return results, problems
