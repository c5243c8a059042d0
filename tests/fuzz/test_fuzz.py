"""Property-based fuzzing (issue 8): no input makes the service answer 5xx.

Hook request bodies, feedback bodies and FHIR server answers are drawn by hypothesis, from shapes close to
the real ones (so that they reach deep into the service) down to arbitrary JSON and bytes. The FHIR side is an
httpx MockTransport that answers with drawn statuses, encodings and bodies, including paging links that try to
leave the server. Quick mode (the default, in `make test`) runs a few hundred examples; `make fuzz` runs the
long mode (HER2_FUZZ_PROFILE=long, ≥ 10,000 examples)."""

import json
import os
import uuid
import zlib
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cds_service.app import create_app
from cds_service.config import Settings
from tests.utils import factories as f
from tests.utils.issued import issue

pytestmark = pytest.mark.fuzz

_COMMON = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
}
settings.register_profile("quick", max_examples=100, derandomize=True, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("long", max_examples=3500, **_COMMON)  # type: ignore[arg-type]
PROFILE = os.environ.get("HER2_FUZZ_PROFILE", "quick")

FHIR = "https://fhir.example.org/r4"
SERVICES = {"her2-patient-view": "patient-view", "her2-order-select": "order-select", "her2-order-sign": "order-sign"}
KEYS = ["patient", "biomarkers", "staging", "safety", "conditions", "medicationRequests", "medicationStatements"]


def mostly(valid: st.SearchStrategy[Any], other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Valid nine times in ten, so that most examples get past validation and reach the rules."""
    return st.integers(0, 9).flatmap(lambda n: other if n == 7 else valid)


# Text that includes what broke the service before: lone surrogates, non-ASCII, control characters, long runs.
hostile_text = st.text(st.characters(exclude_categories=()), max_size=20) | st.sampled_from(
    ["\ud800", "tökén", "a\r\nb", "..", "../../admin", "%2e%2e", "\\", "N0" + " " * 3000 + "()", "3+", "IIIA", ""]
)


def _shapes(text: st.SearchStrategy[str]) -> SimpleNamespace:
    """FHIR-like shapes over one kind of text: plain (reaches the rules) or hostile (reaches the guards)."""
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text
    json_values = st.recursive(
        scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4), max_leaves=12
    )
    codes = st.sampled_from(["85319-2", "85318-4", "21908-9", "21906-3", "10230-1", "224905", "56946", "LA11843-2"])
    systems = st.sampled_from([f.LOINC, f.RXNORM, "http://snomed.info/sct"]) | text
    coding = st.fixed_dictionaries({"system": systems, "code": codes | text}, optional={"display": text})
    concept = st.fixed_dictionaries({}, optional={"coding": st.lists(coding, max_size=3) | json_values, "text": text})
    dates = st.sampled_from(["2025-03-01", "2024", "2025-02-30", "0001-01-01T00:00:00+14:00", "9999-12-31"]) | text
    reference = st.sampled_from(["Patient/p1", "Medication/m1", "Medication/../../admin", "#c", "Patient/other"]) | text

    observation = st.fixed_dictionaries(
        {"resourceType": st.just("Observation"), "id": text, "code": concept},
        optional={
            "status": st.sampled_from(["final", "amended", "entered-in-error"]) | text,
            "subject": st.fixed_dictionaries({"reference": reference}),
            "effectiveDateTime": dates,
            "valueCodeableConcept": concept,
            "valueString": text,
            "valueQuantity": st.fixed_dictionaries({"value": scalars}),
            "component": st.lists(st.fixed_dictionaries({"code": concept}, optional={"valueString": text}), max_size=2),
        },
    )
    medication_request = st.fixed_dictionaries(
        {"resourceType": st.just("MedicationRequest"), "id": st.sampled_from(["mr1", "mr2"]) | text},
        optional={
            "status": st.sampled_from(["draft", "active"]) | text,
            "intent": st.just("order"),
            "subject": st.fixed_dictionaries({"reference": reference}),
            "medicationCodeableConcept": concept,
            "medicationReference": st.fixed_dictionaries({"reference": reference}, optional={"display": text}),
            "contained": json_values,
            "authoredOn": dates,
        },
    )
    condition = st.fixed_dictionaries(
        {"resourceType": st.just("Condition"), "id": text, "code": concept},
        optional={
            "subject": st.fixed_dictionaries({"reference": reference}),
            "stage": st.lists(st.fixed_dictionaries({"summary": concept}), max_size=2),
            "onsetDateTime": dates,
            "clinicalStatus": concept,
        },
    )
    resource = observation | medication_request | condition | st.dictionaries(text, json_values, max_size=3)
    links = st.sampled_from([f"{FHIR}/Observation?page=2", f"{FHIR}/../admin", f"{FHIR}/%2e%2e/x", "http://[::1]/x"])
    bundle = st.fixed_dictionaries(
        {
            "resourceType": st.just("Bundle"),
            "entry": st.lists(st.fixed_dictionaries({"resource": resource}), max_size=4),
        },
        optional={
            "link": st.lists(st.fixed_dictionaries({"relation": st.just("next"), "url": links | text}), max_size=1)
        },
    )
    prefetch_value = st.none() | bundle | resource | st.just({"resourceType": "OperationOutcome"})
    return SimpleNamespace(**locals())


PLAIN = _shapes(st.text(max_size=20))
HOSTILE = _shapes(mostly(st.text(max_size=20), hostile_text))


@st.composite
def hook_bodies(draw: st.DrawFn) -> tuple[str, Any]:
    service = draw(st.sampled_from(sorted(SERVICES)))
    shapes = draw(st.sampled_from([PLAIN, PLAIN, PLAIN, HOSTILE]))
    text, json_values, bundle = shapes.text, shapes.json_values, shapes.bundle
    orders = draw(st.lists(mostly(shapes.medication_request, shapes.resource), max_size=4))
    context: dict[str, Any] = {
        "userId": draw(mostly(st.just("Practitioner/pr-1"), st.just("Patient/p1") | text)),
        "patientId": draw(mostly(st.just("p1"), text)),
        "draftOrders": draw(
            mostly(st.just({"resourceType": "Bundle", "entry": [{"resource": o} for o in orders]}), bundle)
        ),
        "selections": draw(
            st.lists(mostly(st.sampled_from(["MedicationRequest/mr1", "MedicationRequest/mr2"]), text), max_size=3)
        ),
    }
    body: dict[str, Any] = {
        "hook": draw(mostly(st.just(SERVICES[service]), text)),
        "hookInstance": draw(mostly(st.just(str(uuid.uuid4())), text)),
        "context": draw(mostly(st.just(context), json_values)),
    }
    if draw(st.booleans()):
        body["fhirServer"] = draw(mostly(st.sampled_from([FHIR, "http://2130706433/", "http://[::1]/fhir"]), text))
    if draw(mostly(st.just("fhirServer" in body), st.booleans())):
        body["fhirAuthorization"] = draw(
            st.fixed_dictionaries(
                {
                    "access_token": mostly(st.just("token"), text),
                    "token_type": mostly(st.just("Bearer"), text),
                    "expires_in": mostly(st.integers(), text),
                    "scope": st.just("patient/*.read"),
                    "subject": st.just("cds"),
                }
            )
        )
    if draw(st.booleans()):
        complete = st.fixed_dictionaries(dict.fromkeys(KEYS, shapes.prefetch_value))
        body["prefetch"] = draw(mostly(complete, st.dictionaries(st.sampled_from(KEYS) | text, shapes.prefetch_value)))
    if draw(st.integers(0, 19)) == 7:  # now and then, any JSON at all (not 0: hypothesis starts from 0)
        body = draw(json_values)
    return service, body


text, json_values, coding, dates = HOSTILE.text, HOSTILE.json_values, HOSTILE.coding, HOSTILE.dates
ISSUED_CARD = str(uuid.uuid4())  # recorded as issued by the fuzz app: feedback on it reaches the database
feedback_item = st.fixed_dictionaries(
    {
        "card": mostly(st.just(ISSUED_CARD), text),
        "outcome": mostly(st.just("overridden"), st.just("accepted") | text),
        "outcomeTimestamp": mostly(st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()), dates),
        "overrideReason": mostly(
            st.fixed_dictionaries({"reason": mostly(PLAIN.coding, json_values)}, optional={"userComment": text}),
            json_values,
        ),
    },
    optional={
        "acceptedSuggestions": mostly(st.lists(st.fixed_dictionaries({"id": PLAIN.text}), max_size=3), json_values),
        "extension": json_values,
    },
)
feedback_bodies = mostly(
    st.fixed_dictionaries({"feedback": st.lists(feedback_item, min_size=1, max_size=3)}), json_values
)


@st.composite
def fhir_answers(draw: st.DrawFn) -> tuple[int, dict[str, str], bytes]:
    status = draw(st.sampled_from([200, 200, 200, 404, 401, 500]))
    shape = draw(st.sampled_from(["bundle", "resource", "json", "bytes", "deep"]))
    if shape == "bundle":
        content = json.dumps(draw(HOSTILE.bundle)).encode()
    elif shape == "resource":
        content = json.dumps(draw(HOSTILE.resource)).encode()
    elif shape == "json":
        content = json.dumps(draw(json_values)).encode()
    elif shape == "deep":
        depth = draw(st.integers(10, 5000))
        content = b'{"resourceType": "Bundle", "entry": ' + b"[" * depth + b"]" * depth + b"}"
    else:
        content = draw(st.binary(max_size=64))
    headers = {"Content-Type": "application/fhir+json"}
    encoding = draw(st.sampled_from(["", "", "gzip", "deflate", "br", "gzip-broken"]))
    if encoding == "gzip":
        content = zlib.compress(content, wbits=31)
    elif encoding == "deflate":
        content = zlib.compress(content)
    elif encoding == "gzip-broken":
        content = b"\x1f\x8b" + content
    if encoding:
        headers["Content-Encoding"] = encoding.removesuffix("-broken")
    return status, headers, content


class _Server:
    """The FHIR server of the fuzz app: answers with whatever the current example drew."""

    def __init__(self) -> None:
        self.answer: tuple[int, dict[str, str], bytes] = (200, {}, b'{"resourceType": "Bundle"}')

    def handle(self, request: httpx.Request) -> httpx.Response:
        status, headers, content = self.answer
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(content))


SERVER = _Server()


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    database = tmp_path_factory.mktemp("fuzz") / "feedback.sqlite3"
    configured = Settings(
        database_url=f"sqlite:///{database}", hook_deadline_seconds=2.0, fhir_request_timeout_seconds=1.0
    )
    with TestClient(create_app(configured, transport=httpx.MockTransport(SERVER.handle))) as client:
        issue(client, uuids=[ISSUED_CARD])
        yield client


def _post(client: TestClient, path: str, body: Any) -> httpx.Response:
    raw = json.dumps(body).encode()  # ensure_ascii: surrogates travel as \ud800 escapes, as JSON allows
    return client.post(path, content=raw, headers={"Content-Type": "application/json"})


@settings(settings.get_profile(PROFILE))
@given(drawn=hook_bodies(), answer=fhir_answers())
def test_hook_calls_never_answer_5xx(
    fuzz_client: TestClient, drawn: tuple[str, Any], answer: tuple[int, dict[str, str], bytes]
) -> None:
    service, body = drawn
    SERVER.answer = answer

    response = _post(fuzz_client, f"/cds-services/{service}", body)
    event(f"HTTP {response.status_code}")

    assert response.status_code in (200, 400, 412, 413), response.text


@settings(settings.get_profile(PROFILE))
@given(body=feedback_bodies)
def test_feedback_never_answers_5xx(fuzz_client: TestClient, body: Any) -> None:
    response = _post(fuzz_client, "/cds-services/her2-patient-view/feedback", body)
    event(f"HTTP {response.status_code}")

    assert response.status_code in (200, 400, 422), response.text  # 422: a card the service did not issue


@settings(settings.get_profile(PROFILE))
@given(answer=fhir_answers(), keys=st.sets(st.sampled_from(KEYS), min_size=1))
def test_fhir_answers_never_cause_5xx(
    fuzz_client: TestClient, answer: tuple[int, dict[str, str], bytes], keys: set[str]
) -> None:
    """A well-formed call whose missing keys are answered by a drawn FHIR response."""
    SERVER.answer = answer
    templates = dict(fuzz_client.app.state.catalog["her2-patient-view"].prefetch)  # type: ignore[attr-defined]
    prefetch = f.prefetch_for(templates, [f.patient(), f.breast_cancer()], "p1")
    for key in keys:
        del prefetch[key]
    body = f.hook_request("patient-view", prefetch=prefetch, fhir_server=FHIR, token="token")

    response = _post(fuzz_client, "/cds-services/her2-patient-view", body)
    event(f"HTTP {response.status_code}")

    assert response.status_code in (200, 412), response.text


PIECES = ["..", ".", "%2e", "%2E%2e", ".%2e", "\\", "/", "//", ";", "%2f", "%5c", "%25", "@", ":", ":443", "?", "#"]
url_tails = st.lists(st.sampled_from([*PIECES, "a", "Observation", "admin"]), max_size=8).map("".join)


@settings(settings.get_profile(PROFILE))
@given(tail=url_tails, relative=st.booleans())
def test_a_link_judged_under_the_base_is_sent_under_the_base(tail: str, relative: bool) -> None:
    """What the guard accepts is what httpx sends: no parser disagreement lets a link escape the base."""
    from cds_service.fhir.client import FhirClient, FhirError

    client = FhirClient(cast(httpx.AsyncClient, None), FHIR, "token", timeout=1, max_pages=1)  # no I/O here
    try:
        target = client._absolute(tail if relative else f"{FHIR}/{tail}")
    except FhirError:
        event("refused")
        return
    event("followed")
    sent = httpx.URL(target)
    assert (sent.scheme, sent.host, sent.port) == ("https", "fhir.example.org", None)
    assert sent.raw_path == b"/r4" or sent.raw_path.startswith((b"/r4/", b"/r4?"))
    segments = sent.path.split("/")
    assert ".." not in segments and "." not in segments
