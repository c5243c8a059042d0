"""End to end against a real FHIR server loaded with the public examples: no prefetch, all data fetched."""

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from cds_service.fhir import FhirClient
from tests.utils import factories as f
from tests.utils.conformance import assert_response_conforms

pytestmark = pytest.mark.integration

TRIAL_PATIENT_1 = "mCODETrialMatchingPatientExample01"
MESSY_PATIENT = "1e208b6b-77f1-4808-a32b-9f9caf1ec334"


def hook(client: TestClient, service_id: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post(f"/cds-services/{service_id}", json=body)
    assert response.status_code == 200, response.text
    assert_response_conforms(response.json())
    cards: list[dict[str, Any]] = response.json()["cards"]
    return cards


def test_jenny_m_fetched_from_the_server(client: TestClient, fhir_base: str) -> None:
    body = f.hook_request("patient-view", patient_id=f.JENNY_ID, fhir_server=fhir_base, token="opaque-token")

    (card,) = hook(client, "her2-patient-view", body)

    assert card["summary"] == "Latest HER2 result on file: Negative (2018-03-10)"
    assert "`Observation/tumor-marker-test-her2-jenny-m`" in card["detail"]


def test_trial_matching_patient_with_loinc_18474_7_and_snomed_value(client: TestClient, fhir_base: str) -> None:
    body = f.hook_request("patient-view", patient_id=TRIAL_PATIENT_1, fhir_server=fhir_base)

    (card,) = hook(client, "her2-patient-view", body)

    assert card["summary"].startswith("Latest HER2 result on file: Negative (qualifier value)")


def test_malformed_bundle_patient_does_not_crash_or_mislead(client: TestClient, fhir_base: str) -> None:
    """Its only HER2 result carries a wrong LOINC code ("34566") and two values: never read as a HER2 result."""
    body = f.hook_request("patient-view", patient_id=MESSY_PATIENT, fhir_server=fhir_base)

    (card,) = hook(client, "her2-patient-view", body)

    assert card["indicator"] == "warning"
    assert "no HER2 result" in card["summary"]


def test_trastuzumab_order_for_jenny_shows_her_recorded_result(client: TestClient, fhir_base: str) -> None:
    body = f.hook_request(
        "order-select",
        patient_id=f.JENNY_ID,
        fhir_server=fhir_base,
        selections=["MedicationRequest/new-1"],
        draftOrders=f.draft_orders(f.medication_request("new-1", patient_id=f.JENNY_ID), with_type=False),
    )

    (card,) = hook(client, "her2-order-select", body)

    assert card["summary"] == "Trastuzumab order: latest HER2 result: Negative (2018-03-10)"


def test_unknown_patient_is_an_empty_record(client: TestClient, fhir_base: str) -> None:
    assert (
        hook(client, "her2-patient-view", f.hook_request("patient-view", patient_id="nobody", fhir_server=fhir_base))
        == []
    )


def test_unreachable_fhir_server_is_412(client: TestClient, fhir_base: str) -> None:
    closed = "http://127.0.0.1:9/fhir"  # discard port: nothing listens

    response = client.post("/cds-services/her2-patient-view", json=f.hook_request("patient-view", fhir_server=closed))

    assert response.status_code == 412
    assert {i["expression"][0] for i in response.json()["issue"]} == {
        "prefetch.patient",
        "prefetch.biomarkers",
        "prefetch.staging",
        "prefetch.safety",
        "prefetch.conditions",
        "prefetch.medicationRequests",
        "prefetch.medicationStatements",
    }


@pytest.mark.anyio
async def test_paging_on_the_real_server_collects_every_page(fhir_base: str) -> None:
    async with httpx.AsyncClient() as http:
        paged = FhirClient(http, fhir_base, None, timeout=5, max_pages=50)
        whole = await paged.search(f"Observation?patient={f.JENNY_ID}&_count=100")
        pages = await paged.search(f"Observation?patient={f.JENNY_ID}&_count=3")
        capped = await FhirClient(http, fhir_base, None, timeout=5, max_pages=2).search(
            f"Observation?patient={f.JENNY_ID}&_count=3"
        )

    assert len(whole.resources) == 22  # Jenny M has 22 Observations
    assert sorted(r["id"] for r in pages.resources) == sorted(r["id"] for r in whole.resources)
    assert len(capped.resources) == 6 and capped.truncated


def test_synthetic_her2_positive_demo_lists_ihc_and_ish_newest_first(client: TestClient, fhir_base: str) -> None:
    (card,) = hook(
        client,
        "her2-patient-view",
        f.hook_request("patient-view", patient_id="her2-demo-positive", fhir_server=fhir_base),
    )

    assert card["summary"] == "Latest HER2 result on file: Positive (2025-01-17; 2 earlier)"
    detail = card["detail"]
    assert detail.index("Observation/her2-demo-positive-ish`") < detail.index("Observation/her2-demo-positive-ihc`")
    assert "**3.1 {ratio}**" in detail
