from fastapi.testclient import TestClient

from tests.utils.conformance import assert_discovery_conforms


def test_discovery_lists_one_service_per_hook(client: TestClient) -> None:
    response = client.get("/cds-services", headers={"Accept": "application/json"})

    assert response.status_code == 200  # @13
    assert response.headers["content-type"].startswith("application/json")  # @1
    body = response.json()
    assert_discovery_conforms(body)
    assert {(s["id"], s["hook"]) for s in body["services"]} == {
        ("her2-patient-view", "patient-view"),
        ("her2-order-select", "order-select"),
        ("her2-order-sign", "order-sign"),
    }


def test_prefetch_asks_for_exactly_the_clinical_data(client: TestClient) -> None:
    service = next(s for s in client.get("/cds-services").json()["services"] if s["hook"] == "patient-view")
    prefetch = service["prefetch"]

    assert prefetch["patient"] == "Patient/{{context.patientId}}"
    # HER2 IHC/ISH/interpretation, ER, PR and Ki-67 by code, in one query
    for code in ("48676-1", "85319-2", "85318-4", "49683-6", "85337-4", "85339-0", "85330-9", "18474-7"):
        assert f"http://loinc.org|{code}" in prefetch["biomarkers"]
    # serum HER2 is fetched only to say it cannot drive decisions (T12)
    assert "http://loinc.org|32996-1" in prefetch["biomarkers"]
    for code in ("http://loinc.org|21908-9", "http://snomed.info/sct|399537006", "http://snomed.info/sct|399387003"):
        assert code in prefetch["staging"]
    for code in ("10230-1", "82810-3", "2106-3"):  # LVEF, pregnancy status, hCG
        assert f"http://loinc.org|{code}" in prefetch["safety"]
    assert prefetch["conditions"].startswith("Condition?patient={{context.patientId}}")
    assert prefetch["medicationRequests"].startswith("MedicationRequest?patient={{context.patientId}}")
    assert prefetch["medicationStatements"].startswith("MedicationStatement?patient={{context.patientId}}")


def test_wrong_method_is_405_and_unknown_path_404_as_operation_outcomes(client: TestClient) -> None:
    wrong_method = client.get("/cds-services/her2-patient-view")
    unknown = client.get("/nothing-here")

    assert wrong_method.status_code == 405
    assert wrong_method.json()["issue"][0]["code"] == "not-supported"
    assert unknown.status_code == 404
    assert unknown.json()["issue"][0]["code"] == "not-found"


def test_cors_preflight_is_answered_without_credentials(client: TestClient) -> None:
    response = client.options(
        "/cds-services/her2-patient-view",
        headers={
            "Origin": "https://sandbox.cds-hooks.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )

    assert response.status_code == 200  # @208
    assert response.headers["access-control-allow-origin"] in ("*", "https://sandbox.cds-hooks.org")
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in response.headers  # "*" with credentials would be unsafe
