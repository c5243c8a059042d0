"""gather_patient_data reads prefetch exactly as its former version did (before the request path was trimmed for
speed): the same resources (the same objects, in the same order), origins, truncations, unavailable keys and
misplaced codes, or the same 412 problems, on odd input of every kind: nulls, OperationOutcomes, Bundles of odd
types with entries that are not objects, resources that are not objects, `search` that is not an object, search
outcomes, next links, Mappings that are not dicts."""

import asyncio
from collections.abc import Callable, Mapping
from functools import partial
from types import MappingProxyType
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cds_service.fhir import DataUnavailable, FhirClient, FhirError, PatientData, gather_patient_data
from cds_service.fhir import prefetch as module

TEMPLATES = {
    "patient": "Patient/{{context.patientId}}",
    "biomarkers": "Observation?patient={{context.patientId}}&code=http://loinc.org|85319-2",
    "conditions": "Condition?patient={{context.patientId}}",
}
CONTEXT = {"patientId": "p1"}


# The former version's own helpers and constants, so that a change to the module's is held to them too.
SEARCH_BUNDLES = ("searchset", "collection")
MISSING: dict[str, Any] = {}  # the client did not send the key
ALSO_ALLOWED = frozenset({"Medication", "OperationOutcome", "Practitioner", "PractitionerRole", "Organization"})


def former_bundle_resources(bundle: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = []
    entries = bundle.get("entry")
    for entry in entries if isinstance(entries, list) else ():
        if not (type(entry) is dict or isinstance(entry, Mapping)):
            continue
        resource = entry.get("resource")
        if not isinstance(resource, dict):
            continue
        search = entry.get("search")
        if type(search) is dict:
            if search.get("mode") == "outcome":
                continue
        elif search is not None and isinstance(search, Mapping) and search.get("mode") == "outcome":
            continue
        found.append(resource)
    return found


def former_next_link(bundle: Mapping[str, Any]) -> str | None:
    links = bundle.get("link")
    for link in links if isinstance(links, list) else ():
        if isinstance(link, Mapping) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            return str(link["url"]) or None
    return None


def is_read(template: str) -> bool:
    return "?" not in template


async def former_gather(
    templates: Mapping[str, str],
    context: Mapping[str, Any],
    prefetch: Mapping[str, Any] | None,
    fhir: Callable[[], FhirClient],
    deadline_seconds: float,
    optional: frozenset[str] = frozenset(),
    max_resources: int | None = None,
) -> PatientData:
    """gather_patient_data as of 08a8c74 (without extra reads; the fetches it would start fail here)."""
    given = prefetch or {}
    resources: dict[str, tuple[dict[str, Any], ...]] = {}
    misplaced: dict[str, list[str]] = {}
    origin: dict[str, module.Origin] = {}
    work: dict[str, module.Job] = {}
    for key, template in templates.items():
        value = given.get(key) if key in given else MISSING
        if value is None:
            resources[key], origin[key] = (), "prefetch-null"
        elif value is MISSING or value.get("resourceType") == "OperationOutcome":
            work[key], origin[key] = module._fetch(template, module.render_template(template, context)), "fhir"
        elif value.get("resourceType") == "Bundle" and not is_read(template):
            origin[key] = "prefetch"
            if value.get("type") not in SEARCH_BUNDLES:
                misplaced.setdefault(key, []).append(f"bundle-type:{value.get('type') or '-'}")
            if former_next_link(value):
                work[key] = partial(FhirClient.complete, bundle=value)
            else:
                resources[key] = tuple(former_bundle_resources(value))
        elif value.get("resourceType") == "Bundle":
            resources[key], origin[key] = tuple(former_bundle_resources(value)), "prefetch"
            misplaced.setdefault(key, []).append("bundle-for-read")
        else:
            resources[key], origin[key] = (value,), "prefetch"
            if not is_read(template):
                misplaced.setdefault(key, []).append("not-a-bundle")
    truncated: set[str] = set()
    unavailable: dict[str, str] = {}
    if work:
        try:
            fhir()
        except FhirError as exc:
            problems = {key: str(exc) for key in work}
        required = {key: reason for key, reason in problems.items() if key in templates and key not in optional}
        if required:
            raise DataUnavailable(required)
        unavailable.update(problems)
    if max_resources is not None:
        for key, found in resources.items():
            if len(found) > max_resources:
                resources[key] = found[:max_resources]
                truncated.add(key)
    for key, template in templates.items():
        wanted = template.split("?")[0].split("/")[0]
        other = {str(kind) for r in resources.get(key, ()) if (kind := r.get("resourceType")) != wanted}
        if other and (odd := sorted(other.difference(ALSO_ALLOWED, (wanted,)))):
            misplaced.setdefault(key, []).extend(f"type:{kind}" for kind in odd)
    return PatientData(
        resources=resources,
        origin=origin,
        truncated=frozenset(truncated),
        unavailable=unavailable,
        misplaced={key: tuple(problems) for key, problems in misplaced.items() if problems},
    )


def no_server() -> FhirClient:
    raise FhirError("no FHIR server in this test")


KINDS = st.sampled_from(["Observation", "Condition", "Patient", "Medication", "OperationOutcome", "Procedure", 7, None])
resources = st.builds(lambda kind, n: {"resourceType": kind, "id": f"r{n}"}, KINDS, st.integers(0, 9))
searches = st.one_of(
    st.builds(lambda mode: {"mode": mode}, st.sampled_from(["match", "include", "outcome", 3, None])),
    st.builds(lambda mode: MappingProxyType({"mode": mode}), st.sampled_from(["match", "outcome"])),
    st.sampled_from([[], "outcome", 0]),
)


@st.composite
def entries(draw: st.DrawFn) -> Any:
    shape = draw(st.sampled_from(["usual", "usual", "usual", "no-search", "odd-resource", "odd-search", "odd"]))
    if shape == "odd":
        return draw(st.sampled_from([None, 3, "entry", [], ["resource"]]))
    entry: dict[str, Any] = {"resource": draw(resources)}
    if shape == "odd-resource":
        entry["resource"] = draw(st.sampled_from(["text", None, 5, [], MappingProxyType({"resourceType": "X"})]))
    if shape != "no-search":
        entry["search"] = (
            draw(searches) if shape == "odd-search" else {"mode": draw(st.sampled_from(["match", "include"]))}
        )
    return MappingProxyType(entry) if draw(st.booleans()) and shape == "usual" and draw(st.booleans()) else entry


@st.composite
def values(draw: st.DrawFn) -> Any:
    shape = draw(st.sampled_from(["missing", "null", "outcome", "bundle", "bundle", "bundle", "resource"]))
    if shape == "missing":
        return MISSING
    if shape == "null":
        return None
    if shape == "outcome":
        return {"resourceType": "OperationOutcome", "issue": []}
    if shape == "resource":
        value = draw(resources)
    else:
        value = {"resourceType": "Bundle", "type": draw(st.sampled_from(["searchset", "collection", "batch", None]))}
        value["entry"] = draw(st.one_of(st.lists(entries(), max_size=8), st.sampled_from([None, "entries", {}])))
        if draw(st.integers(0, 9)) == 0:
            value["link"] = [{"relation": "next", "url": "Observation?page=2"}]
    return MappingProxyType(value) if draw(st.integers(0, 9)) == 0 else value


def outcome(run: Callable[[], Any]) -> Any:
    try:
        data = asyncio.run(run())
    except DataUnavailable as exc:
        return "412", exc.problems
    # The same objects in the same order: identity, not only equality.
    return data, {key: [id(r) for r in found] for key, found in data.resources.items()}


@settings(max_examples=400, deadline=None)
@given(
    drawn=st.fixed_dictionaries({key: values() for key in TEMPLATES}),
    optional=st.frozensets(st.sampled_from(list(TEMPLATES))),
    cap=st.one_of(st.none(), st.integers(0, 5)),
    as_proxy=st.booleans(),
)
def test_prefetch_is_read_as_the_former_version_read_it(
    drawn: dict[str, Any], optional: frozenset[str], cap: int | None, as_proxy: bool
) -> None:
    given_keys = {key: value for key, value in drawn.items() if value is not MISSING}
    prefetch: Mapping[str, Any] = MappingProxyType(given_keys) if as_proxy else given_keys

    now = outcome(
        lambda: gather_patient_data(TEMPLATES, CONTEXT, prefetch, no_server, 5.0, optional=optional, max_resources=cap)
    )
    before = outcome(
        lambda: former_gather(TEMPLATES, CONTEXT, prefetch, no_server, 5.0, optional=optional, max_resources=cap)
    )

    assert now == before


def test_the_strategies_reach_every_branch() -> None:
    # A guard on the property test above: the odd inputs it is about are among what it draws.
    seen: set[str] = set()

    @settings(max_examples=300, deadline=None, database=None)
    @given(drawn=st.fixed_dictionaries({key: values() for key in TEMPLATES}))
    def collect(drawn: dict[str, Any]) -> None:
        prefetch = {key: value for key, value in drawn.items() if value is not MISSING}
        result = outcome(
            lambda: gather_patient_data(TEMPLATES, CONTEXT, prefetch, no_server, 5.0, optional=frozenset(TEMPLATES))
        )
        data = result[0]
        seen.update(origin for origin in data.origin.values())
        seen.update(code.split(":")[0] for codes in data.misplaced.values() for code in codes)
        seen.update("proxy" for value in prefetch.values() if isinstance(value, MappingProxyType))

    collect()
    assert {
        "prefetch",
        "prefetch-null",
        "fhir",
        "type",
        "bundle-type",
        "bundle-for-read",
        "not-a-bundle",
        "proxy",
    } <= seen
