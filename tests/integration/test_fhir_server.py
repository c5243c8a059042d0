"""End to end against a real FHIR server loaded with the public examples: no prefetch, all data fetched."""

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from cds_service.app import create_app
from cds_service.config import REPO_ROOT, Settings
from cds_service.fhir import FhirClient
from tests.utils import factories as f
from tests.utils.cards import by_topic, shown_rows, topics
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
    """mCODE Jenny M: HER2-negative (48676-1 = LA6577-6), ER-positive, stage IIB; no HER2-directed option."""
    body = f.hook_request("patient-view", patient_id=f.JENNY_ID, fhir_server=fhir_base, token="opaque-token")

    cards = hook(client, "her2-patient-view", body)

    # the Condition's stage summary (IIIC) and the stage group Observations (IIB) disagree: said, not chosen silently
    assert topics(cards) == ["her2-status", "stage-conflict"]
    assert cards[0]["summary"] == "HER2-negative, IHC score not recorded (2018-03-10) · HR-positive · early"
    assert "`Observation/tumor-marker-test-her2-jenny-m`" in cards[0]["detail"]


@pytest.mark.parametrize("patient_id", [TRIAL_PATIENT_1, "mCODETrialMatchingPatientExample02"])
def test_trial_matching_patients_with_loinc_18474_7_and_snomed_values(
    client: TestClient, fhir_base: str, patient_id: str
) -> None:
    """HER2 18474-7 = SNOMED Negative, ER/PR 40556-3/40557-1 = SNOMED Positive, stage IV by cancerstaging.org."""
    body = f.hook_request("patient-view", patient_id=patient_id, fhir_server=fhir_base)

    cards = hook(client, "her2-patient-view", body)

    # metastatic HER2-negative: the IHC score decides T-DXd (HER2-low/ultralow) versus nothing (HER2 0)
    assert cards[0]["summary"] == "HER2-negative without IHC score: low, ultralow or 0 unknown"
    assert "HER2-negative, IHC score not recorded · HR-positive · metastatic" in cards[0]["detail"]
    assert by_topic(cards, "T8")["indicator"] == "warning"
    assert not any(t.startswith(("M", "N", "A")) and t[1:].isdigit() for t in topics(cards))


def test_malformed_bundle_patient_does_not_crash_or_mislead(client: TestClient, fhir_base: str) -> None:
    """Its only HER2 result carries a wrong LOINC code ("34566") and two values: never read as a HER2 result."""
    body = f.hook_request("patient-view", patient_id=MESSY_PATIENT, fhir_server=fhir_base)

    cards = hook(client, "her2-patient-view", body)

    assert "HER2 status unknown" in cards[0]["detail"]
    assert by_topic(cards, "her2-missing")["indicator"] == "warning"
    assert "positive" not in " ".join(c["summary"].lower() for c in cards)


def test_trastuzumab_order_for_jenny_is_a_her2_mismatch(client: TestClient, fhir_base: str) -> None:
    body = f.hook_request(
        "order-select",
        patient_id=f.JENNY_ID,
        fhir_server=fhir_base,
        selections=["MedicationRequest/new-1"],
        draftOrders=f.draft_orders(f.medication_request("new-1", patient_id=f.JENNY_ID), with_type=False),
    )

    cards = hook(client, "her2-order-select", body)

    card = by_topic(cards, "order-her2-mismatch")
    assert card["indicator"] == "warning"
    assert card["summary"] == "trastuzumab ordered, but patient is HER2-negative, IHC score not recorded"


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
    }  # medicationStatements is optional: it alone would cost a warning card, not the call


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


def test_synthetic_her2_positive_demo_is_positive_by_ish(client: TestClient, fhir_base: str) -> None:
    """IHC 2+ with FISH amplified (ratio 3.1): HER2-positive by row T3, with both results in the basis."""
    cards = hook(
        client,
        "her2-patient-view",
        f.hook_request("patient-view", patient_id="her2-demo-positive", fhir_server=fhir_base),
    )

    status = cards[0]
    assert status["source"]["topic"]["code"] == "T3"
    assert status["summary"].startswith("HER2-positive (2025-01-17) · HR-negative · early")
    assert "Observation/her2-demo-positive-ish`" in status["detail"]
    assert "Observation/her2-demo-positive-ihc`" in status["detail"]


def test_synthetic_equivocal_demo_asks_for_ish(client: TestClient, fhir_base: str) -> None:
    cards = hook(
        client,
        "her2-patient-view",
        f.hook_request("patient-view", patient_id="her2-demo-equivocal", fhir_server=fhir_base),
    )

    card = by_topic(cards, "T2")
    assert card["indicator"] == "warning"
    assert card["suggestions"][0]["actions"][0]["resource"]["code"]["coding"][0]["code"] == "85318-4"
    assert not any(t.startswith(("N", "A", "M")) and t[1:].isdigit() for t in topics(cards))


def test_metastatic_demo_gets_second_line_options(client: TestClient, fhir_base: str) -> None:
    """After first-line THP: second-line options (M6 T-DXd, M7 pyrotinib + capecitabine)."""
    cards = hook(
        client,
        "her2-patient-view",
        f.hook_request("patient-view", patient_id="her2-demo-metastatic", fhir_server=fhir_base),
    )

    assert cards[0]["summary"].startswith("HER2-positive (2024-06-14) · HR-positive · metastatic")
    assert {"M6", "M7"} <= set(topics(cards))
    assert "Next anti-HER2 line (metastatic): **2**" in by_topic(cards, "M6")["detail"]


def test_her2_low_demo_gets_t_dxd_after_chemotherapy(client: TestClient, fhir_base: str) -> None:
    cards = hook(
        client, "her2-patient-view", f.hook_request("patient-view", patient_id="her2-demo-low", fhir_server=fhir_base)
    )

    assert cards[0]["source"]["topic"]["code"] == "T8"  # IHC 1+: HER2-low
    assert "T-DXd" in by_topic(cards, "L1")["summary"]


def test_local_codes_are_read_through_the_conceptmap(settings: Settings, fhir_base: str) -> None:
    """A Chinese hospital's local lab codes and texts: HER2-positive (IHC 2+, FISH 阳性), locally advanced."""
    body = f.hook_request("patient-view", patient_id="her2-demo-local-codes", fhir_server=fhir_base)
    concept_map = REPO_ROOT / "examples" / "conceptmap" / "hospital-local-codes.conceptmap.json"

    with TestClient(create_app(settings.model_copy(update={"concept_maps": [concept_map]}))) as with_map:
        cards = hook(with_map, "her2-patient-view", body)
    with TestClient(create_app(settings)) as without_map:
        unmapped = hook(without_map, "her2-patient-view", body)

    assert cards[0]["summary"].startswith("HER2-positive (2025-04-15) · HR-negative · locally advanced")
    assert {"N1", "N2"} <= shown_rows(cards)  # N1 (neoadjuvant route) inside the N2 card
    assert "her2-missing" in topics(unmapped)  # without the map the local codes are not asked for at all
