"""/openapi.json tells the truth: a valid document; its sample requests get cards; every documented status is
produced by a real request and its body matches the documented schema; /docs loads."""

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from fastapi.openapi.utils import get_openapi
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from starlette.routing import Route

from cds_service.app import create_app
from cds_service.config import Settings
from tests.api.test_client_auth import BASE, bearer, token, with_trusted_clients
from tests.api.test_database_unavailable import write_turn_held_elsewhere
from tests.utils import factories as f

CJK = re.compile(r"[\u4e00-\u9fff]")
SERVICES = ("her2-patient-view", "her2-order-select", "her2-order-sign")
FEEDBACK = {
    "feedback": [
        {
            "card": "0f6c3b0e-6c1e-4a57-9f0e-0d7c6a1b2c3d",
            "outcome": "overridden",
            "overrideReason": {"userComment": "discussed with the patient"},
            "outcomeTimestamp": "2026-11-29T10:00:00Z",
        }
    ]
}


@pytest.fixture(scope="module")
def docs_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app for the read-mostly checks; a small request cap so that 413 is cheap to reach."""
    folder = tmp_path_factory.mktemp("docs")
    with pytest.MonkeyPatch.context() as env:
        for name in list(__import__("os").environ):
            if name.startswith("HER2_CDS_"):
                env.delenv(name)
        settings = Settings(database_url=f"sqlite:///{folder / 'store.sqlite3'}", max_request_bytes=200_000)
        with TestClient(create_app(settings)) as client:
            yield client


@pytest.fixture(scope="module")
def document(docs_client: TestClient) -> dict[str, Any]:
    response = docs_client.get("/openapi.json")
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def assert_matches(document: Mapping[str, Any], path: str, method: str, response: Any) -> None:
    """The response's status is documented for this operation and its body matches that status's schema."""
    operation = document["paths"][path][method]
    documented = operation["responses"]
    assert str(response.status_code) in documented, f"{method} {path}: {response.status_code} not documented"
    schema = documented[str(response.status_code)]["content"]["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": document["components"]})
    errors = [e.message for e in validator.iter_errors(response.json())]
    assert not errors, f"{method} {path} {response.status_code}: {errors[:3]}"


def concrete(path: str, lang: str = "zh-CN", service_id: str = "her2-patient-view") -> str:
    return path.replace("{lang}", lang).replace("{service_id}", service_id)


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(document)  # raises on an invalid document
    assert document["openapi"] == "3.1.0"


def test_the_document_describes_each_route_and_only_those(docs_client: TestClient, document: dict[str, Any]) -> None:
    expected = {
        f"{prefix}/cds-services{tail}"
        for prefix in ("", "/{lang}")
        for tail in ("", *(f"/{s}" for s in SERVICES), "/{service_id}/feedback")
    }
    assert set(document["paths"]) == expected
    for path, item in document["paths"].items():
        for method in item:
            # Every documented operation reaches a route: no 404/405 for the path and method as documented.
            response = docs_client.request(method, concrete(path), json={})
            assert response.status_code not in (404, 405), f"{method} {path}"


def app_operations(app: Any) -> dict[str, set[str]]:
    """The routes that are part of the API, as OpenAPI names them: those FastAPI's own generator lists (it cannot
    see their bodies), and the plain Starlette routes the hook calls take (which it does not list); path
    converters dropped (`{lang:cds_language}` -> `{lang}`)."""
    generated = get_openapi(title="routes", version="0", routes=app.routes)["paths"]
    operations = {path: set(item) for path, item in generated.items()}
    for route in app.routes:
        if type(route) is Route and route.include_in_schema and route.methods:
            path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
            operations.setdefault(path, set()).update(m.lower() for m in route.methods if m != "HEAD")
    return operations


def test_every_route_of_the_app_is_documented(docs_client: TestClient, document: dict[str, Any]) -> None:
    routes = app_operations(docs_client.app)
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert len(routes) == 6
    assert routes["/cds-services/{service_id}"] == routes["/{lang}/cds-services/{service_id}"] == {"post"}
    for path, item in routes.items():
        for method in item:
            concrete_paths = (
                {path} if path.endswith("/feedback") else {path.replace("{service_id}", s) for s in SERVICES}
            )
            missing = {p for p in concrete_paths if (p, method) not in documented}
            assert not missing, f"{method} {missing} undocumented"


def test_hook_requests_are_described_per_hook(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for service, hook, context in (
        ("her2-patient-view", "patient-view", "PatientViewContext"),
        ("her2-order-select", "order-select", "OrderSelectContext"),
        ("her2-order-sign", "order-sign", "OrderSignContext"),
    ):
        body = document["paths"][f"/cds-services/{service}"]["post"]["requestBody"]["content"]["application/json"]
        request = schemas[body["schema"]["$ref"].rsplit("/", 1)[1]]
        assert request["properties"]["hook"] == {"const": hook}
        assert request["properties"]["context"]["$ref"].endswith(f"/{context}")
        assert {"hookInstance", "context"} <= set(request["required"])
        assert {"fhirServer", "fhirAuthorization", "prefetch"} <= set(request["properties"])
    assert "Patient" in schemas["PatientViewContext"]["properties"]["userId"]["pattern"]
    assert "Patient|" not in schemas["OrderSignContext"]["properties"]["userId"]["pattern"]
    assert schemas["OrderSelectContext"]["required"] == ["userId", "patientId", "draftOrders", "selections"]


@pytest.mark.parametrize("prefix", ["", "/en", "/zh-CN"])
@pytest.mark.parametrize("service", SERVICES)
def test_each_sample_request_gets_cards(
    docs_client: TestClient, document: dict[str, Any], service: str, prefix: str
) -> None:
    path = f"{'/{lang}' if prefix else ''}/cds-services/{service}"
    example = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["example"]

    response = docs_client.post(f"{prefix}/cds-services/{service}", json=example)

    assert response.status_code == 200, response.text
    assert_matches(document, path, "post", response)
    cards = response.json()["cards"]
    assert cards
    chinese = [bool(CJK.search(card["summary"])) for card in cards]
    assert all(chinese) if prefix == "/zh-CN" else not any(chinese)


def test_the_discovery_example_is_the_discovery_response(docs_client: TestClient, document: dict[str, Any]) -> None:
    documented = document["paths"]["/cds-services"]["get"]["responses"]["200"]["content"]["application/json"]
    assert docs_client.get("/cds-services").json() == documented["example"]


def _issued_card(client: TestClient, document: Mapping[str, Any]) -> dict[str, Any]:
    """Feedback on a card her2-order-select really issued (feedback on other cards is refused: 422)."""
    path = "/cds-services/her2-order-select"
    example = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["example"]
    card = client.post(path, json=example).json()["cards"][0]["uuid"]
    return {"feedback": [{**FEEDBACK["feedback"][0], "card": card}]}


def _error_requests(
    document: Mapping[str, Any], issued: dict[str, Any]
) -> Iterator[tuple[str, str, int, dict[str, Any]]]:
    """(documented path, method, status, request) for every documented status but 401, 500 and 503."""
    too_big = {"hook": "x", "padding": "x" * 250_000}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status in map(int, operation["responses"]):
                if status in (401, 500, 503):
                    continue
                if status == 200:
                    ok: dict[str, Any] = {"json": issued} if path.endswith("/feedback") else {}
                    if "example" in operation.get("requestBody", {}).get("content", {}).get("application/json", {}):
                        ok = {"json": operation["requestBody"]["content"]["application/json"]["example"]}
                    yield path, method, 200, ok
                elif status == 400:
                    yield path, method, 400, {"content": b"{not json", "headers": {"Content-Type": "application/json"}}
                elif status == 404:
                    yield path.replace("{service_id}", "no-such-service"), method, 404, {"json": FEEDBACK}
                elif status == 412:
                    service = path.rsplit("/", 1)[1]
                    hook = service.removeprefix("her2-")
                    extra = (
                        {} if hook == "patient-view" else {"draftOrders": f.draft_orders(f.medication_request("m1"))}
                    )
                    if hook == "order-select":
                        extra["selections"] = ["MedicationRequest/m1"]
                    yield path, method, 412, {"json": f.hook_request(hook, **extra)}  # no prefetch, no fhirServer
                elif status == 413:
                    yield path, method, 413, {"json": too_big}
                elif status == 422:
                    yield path, method, 422, {"json": FEEDBACK}  # a card this service never issued
                else:
                    raise AssertionError(f"{method} {path}: no test request for documented status {status}")


def test_every_documented_status_is_produced_and_matches_its_schema(
    docs_client: TestClient, document: dict[str, Any]
) -> None:
    seen = set()
    for path, method, status, request in _error_requests(document, _issued_card(docs_client, document)):
        response = docs_client.request(method, concrete(path, service_id="her2-order-select"), **request)
        assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text[:200]}"
        template = path.replace("no-such-service", "{service_id}")
        assert_matches(document, template, method, response)
        seen.add((template, method, status))
    documented = {
        (path, method, int(status))
        for path, item in document["paths"].items()
        for method, operation in item.items()
        for status in operation["responses"]
        if int(status) not in (401, 500, 503)
    }
    assert seen == documented


def test_500_is_documented_and_produced_as_its_schema(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, document: dict[str, Any]
) -> None:
    class Broken(dict[str, Any]):
        def __contains__(self, key: object) -> bool:
            raise RuntimeError("a bug")

        def values(self) -> Any:
            raise RuntimeError("a bug")

    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        client.app.state.catalog = Broken()  # type: ignore[attr-defined]
        for path, item in document["paths"].items():
            for method in item:
                response = client.request(method, concrete(path), json={})
                assert response.status_code == 500, f"{method} {path}"
                assert_matches(document, path, method, response)


def test_with_trusted_clients_401_is_documented_and_produced(settings: Settings, tmp_path: Path) -> None:
    with TestClient(create_app(with_trusted_clients(settings, tmp_path))) as client:
        # The docs themselves need a token then: read the document the app would serve.
        document = client.app.openapi()  # type: ignore[attr-defined]
        assert document["security"] == [{"clientJwt": []}]
        for path, item in document["paths"].items():
            for method in item:
                response = client.request(method, concrete(path), json={})
                assert response.status_code == 401, f"{method} {path}"
                assert response.headers["WWW-Authenticate"] == "Bearer"
                assert_matches(document, path, method, response)


def test_503_is_documented_and_produced_as_its_schema(settings: Settings, tmp_path: Path) -> None:
    """Every route that needs the database (all of them once client JWTs are checked against replays) says 503."""
    with TestClient(create_app(with_trusted_clients(settings, tmp_path))) as client:
        document = client.app.openapi()  # type: ignore[attr-defined]
        documented = [(path, method) for path, item in document["paths"].items() for method in item]
        assert all("503" in document["paths"][path][method]["responses"] for path, method in documented)
        with write_turn_held_elsewhere(client.app.state.feedback_store.database):  # type: ignore[attr-defined]
            for path, method in documented:
                url = concrete(path)
                response = client.request(method, url, json={}, headers=bearer(token(f"{BASE}{url}")))
                assert response.status_code == 503, f"{method} {path}: {response.text[:200]}"
                assert response.headers["Retry-After"] == "5"
                assert_matches(document, path, method, response)


def test_without_trusted_clients_401_is_not_documented(document: dict[str, Any]) -> None:
    statuses = {s for item in document["paths"].values() for op in item.values() for s in op["responses"]}
    assert "401" not in statuses
    # Without client JWTs only feedback needs the database before answering.
    assert {p for p, item in document["paths"].items() for op in item.values() if "503" in op["responses"]} == {
        "/cds-services/{service_id}/feedback",
        "/{lang}/cds-services/{service_id}/feedback",
    }
    # FastAPI's default 422 (validation) is never returned: only feedback's "card not issued here" is a 422.
    assert {p for p, item in document["paths"].items() for op in item.values() if "422" in op["responses"]} == {
        "/cds-services/{service_id}/feedback",
        "/{lang}/cds-services/{service_id}/feedback",
    }
    assert "security" not in document


def test_docs_page_loads_the_description(docs_client: TestClient) -> None:
    page = docs_client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in page.text and "swagger" in page.text.lower()
    assert docs_client.get("/redoc").status_code == 200


def test_docs_need_no_internet(docs_client: TestClient) -> None:
    """Swagger UI comes from the package: a hospital network without internet access still gets /docs."""
    page = docs_client.get("/docs").text
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page)
    assert assets and not [url for url in assets if url.startswith(("http:", "https:", "//"))], assets
    script = docs_client.get("/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "SwaggerUIBundle" in script.text
    assert docs_client.get("/docs/assets/swagger-ui.css").headers["content-type"].startswith("text/css")
    for name in ("../app.py", "LICENSE", "..%2Fapp.py"):
        assert docs_client.get(f"/docs/assets/{name}").status_code == 404


def test_docs_without_the_example_patient_still_describe_the_api(settings: Settings, tmp_path: Path) -> None:
    with TestClient(create_app(settings.model_copy(update={"examples_dir": tmp_path}))) as client:
        document = client.get("/openapi.json").json()
    body = document["paths"]["/cds-services/her2-patient-view"]["post"]["requestBody"]["content"]["application/json"]
    assert "example" not in body and "$ref" in body["schema"]
    validate(document)
