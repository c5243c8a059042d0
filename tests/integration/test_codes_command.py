"""`her2-cds codes`: from a file or a FHIR server, its errors, and the integrator's loop end to end
(run codes → fill the ConceptMap → load it → the engine reads the local codes)."""

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from fastapi.testclient import TestClient

from cds_service.app import create_app
from cds_service.cli import main
from cds_service.config import REPO_ROOT, Settings
from cds_service.hookrequest import build_request, bundle_resources
from tests.unit.test_concept_map_skeleton import example_answers, fill
from tests.utils import factories as f

LOCAL_EXAMPLE = REPO_ROOT / "examples" / "synthetic" / "her2-local-codes-chinese-hospital.json"
EXAMPLE_MAP = REPO_ROOT / "examples" / "conceptmap" / "hospital-local-codes.conceptmap.json"
LOCAL_PATIENT = "her2-demo-local-codes"
LAB = "http://hospital.example.cn/lab-codes"
FHIR = "https://fhir.example.org/r4"
TOKEN = "secret-token-never-printed"


def _codes(answer: dict[str, Any], key: str = "unrecognised") -> set[tuple[str, str, str]]:
    return {(i["kind"], i["system"], i["code"]) for i in answer[key]}


def _run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    status = main(["codes", *argv, "--json"])
    return status, json.loads(capsys.readouterr().out)


def _patient_view_summaries(concept_maps: list[Path], tmp_path: Path) -> list[str]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'fb.sqlite3'}", concept_maps=concept_maps)
    with TestClient(create_app(settings)) as client:
        app: Any = client.app
        resources = bundle_resources(json.loads(LOCAL_EXAMPLE.read_text(encoding="utf-8")))
        templates = dict(app.state.catalog["her2-patient-view"].prefetch)
        request = build_request("patient-view", resources, templates, app.state.engine.terminology)
        response = client.post("/cds-services/her2-patient-view", json=request)
    assert response.status_code == 200
    return [card["summary"] for card in response.json()["cards"]]


def test_filled_skeleton_makes_the_service_read_the_local_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    skeleton = tmp_path / "conceptmap.json"
    assert main(["codes", str(LOCAL_EXAMPLE), "--out", str(skeleton)]) == 1
    out = capsys.readouterr().out
    assert "HER2-IHC" in out and f"ConceptMap skeleton written to {skeleton}" in out
    assert not any(s.startswith("HER2-positive") for s in _patient_view_summaries([], tmp_path))

    # The integrator fills in the targets (here: the example hospital's answers) and loads the map.
    filled = tmp_path / "filled.conceptmap.json"
    filled.write_text(json.dumps(fill(json.loads(skeleton.read_text(encoding="utf-8")), example_answers())))
    monkeypatch.setenv("HER2_CDS_CONCEPT_MAPS", str(filled))

    assert main(["codes", str(LOCAL_EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "all codes recognised" in out and "5 local codes loaded" in out
    # IHC 2+ (local lab and result codes) with FISH positive (local lab code): HER2-positive, on a patient-view call.
    summaries = _patient_view_summaries([filled], tmp_path)
    assert summaries[0].startswith("HER2-positive (2025-04-15)"), summaries


def test_example_concept_map_loaded_leaves_nothing_to_map(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HER2_CDS_CONCEPT_MAPS", str(EXAMPLE_MAP))
    status, answer = _run_json([str(LOCAL_EXAMPLE)], capsys)
    assert status == 0
    assert answer["unrecognised"] == [] and answer["recognisedOnlyByText"] == []
    assert answer["localCodesLoaded"] == 10 and "conceptMap" not in answer


def test_without_the_map_the_local_codes_are_listed(capsys: pytest.CaptureFixture[str]) -> None:
    status, answer = _run_json([str(LOCAL_EXAMPLE)], capsys)

    assert status == 1
    assert _codes(answer) == {("observation", LAB, c) for c in ("HER2-IHC", "HER2-FISH", "ER-IHC", "PR-IHC")}
    ihc = next(i for i in answer["unrecognised"] if i["code"] == "HER2-IHC")
    assert ihc["count"] == 1 and ihc["displays"] == ["HER2 免疫组化 (IHC)"] and ihc["likelyRelevant"]
    assert ihc["resources"] == ["Observation/her2-demo-local-codes-ihc"]
    assert _codes(answer, "recognisedOnlyByText") == {("value", "http://hospital.example.cn/result-codes", "H2")}
    assert answer["conceptMap"]["resourceType"] == "ConceptMap"  # no --out: the skeleton is in the JSON


def test_human_output_marks_relevant_codes_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bp = f.observation("bp", "85354-9")
    bp["code"]["coding"][0]["display"] = "Blood pressure panel"
    her2 = f.observation("h", "HX", system=LAB)
    her2["code"]["coding"][0]["display"] = "CerbB-2"
    bundle = tmp_path / "b.json"
    bundle.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": r} for r in (f.patient(), bp, her2)]}))  # fmt: skip

    assert main(["codes", str(bundle)]) == 1

    rows = [line for line in capsys.readouterr().out.splitlines() if "|" in line]
    assert rows[0].startswith(" * Observation code") and f"{LAB}|HX" in rows[0]
    assert rows[1].startswith("   Observation code") and "http://loinc.org|85354-9" in rows[1]


def test_a_single_resource_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    single = tmp_path / "obs.json"
    single.write_text(json.dumps(f.observation("o1", "85319-2", value=f.coded("http://loinc.org", "LA11842-4", "2+"))))
    assert main(["codes", str(single)]) == 0
    assert "all codes recognised" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("{not json", "not JSON"),
        ("[1, 2]", "not a FHIR resource"),
    ],
)
def test_file_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    path = tmp_path / "in.json"
    if content is not None:
        path.write_text(content)
    assert main(["codes", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err


@pytest.mark.parametrize(
    "argv",
    [[], ["x.json", "--fhir-server", FHIR, "--patient", "p1"], ["--fhir-server", FHIR]],
)
def test_input_forms_are_exclusive(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["codes", *argv]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_unreachable_server_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["codes", "--fhir-server", "http://127.0.0.1:9/fhir", "--patient", "p1", "--timeout", "5"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "unreachable" in err


def _server(mock: respx.MockRouter, observation_pages: list[dict[str, Any]], **answers: Any) -> None:
    mock.get(f"{FHIR}/Patient/p1").respond(json=f.patient())
    mock.get(f"{FHIR}/Observation").mock(side_effect=[httpx.Response(200, json=p) for p in observation_pages])
    for kind in ("Condition", "MedicationRequest", "MedicationStatement"):
        mock.get(f"{FHIR}/{kind}").mock(return_value=answers.get(kind, httpx.Response(200, json=f.searchset([]))))


def test_server_pages_are_followed_and_the_token_is_sent_not_printed(capsys: pytest.CaptureFixture[str]) -> None:
    first = f.observation("o1", "P1", system=LAB)
    second = f.observation("o2", "P2", system=LAB)
    other = f.observation("o3", "P3", system=LAB, patient_id="p2")  # a server answering another patient's data
    with respx.mock(assert_all_called=False) as mock:
        _server(mock, [f.searchset([first], next_url=f"{FHIR}/Observation?page=2"), f.searchset([second, other])])
        status, answer = _run_json(["--fhir-server", FHIR, "--patient", "p1", "--token", TOKEN], capsys)
        headers = [call.request.headers.get("Authorization") for call in mock.calls]
        urls = [call.request.url for call in mock.calls]

    assert status == 1
    assert _codes(answer) == {("observation", LAB, "P1"), ("observation", LAB, "P2")}
    assert answer["leftOutOtherPatients"] == 1
    assert headers and all(h == f"Bearer {TOKEN}" for h in headers)
    observation_query = next(u for u in urls if u.path.endswith("/Observation"))
    assert "code" not in observation_query.params  # every Observation: the unknown codes are the point


def test_server_errors_are_one_line_without_the_token(capsys: pytest.CaptureFixture[str]) -> None:
    with respx.mock(assert_all_called=False) as mock:
        _server(mock, [f.searchset([])], Condition=httpx.Response(401, json={"resourceType": "OperationOutcome"}))
        status = main(["codes", "--fhir-server", FHIR, "--patient", "p1", "--token", TOKEN])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.err.strip() == "error: FHIR server: conditions: HTTP 401"
    assert TOKEN not in captured.out + captured.err


def test_missing_patient_on_the_server(capsys: pytest.CaptureFixture[str]) -> None:
    with respx.mock(assert_all_called=False) as mock:
        _server(mock, [f.searchset([])])
        mock.get(f"{FHIR}/Patient/p9").respond(404)
        assert main(["codes", "--fhir-server", FHIR, "--patient", "p9"]) == 2
    assert capsys.readouterr().err.strip() == "error: Patient/p9 not found on the FHIR server"


def test_medications_named_by_reference_are_read(capsys: pytest.CaptureFixture[str]) -> None:
    order = f.medication_request("m1", code=None)
    order["status"] = "active"
    del order["medicationCodeableConcept"]
    order["medicationReference"] = {"reference": "Medication/med1"}
    medication = {"resourceType": "Medication", "id": "med1", "code": {"coding": [{"system": LAB, "code": "DRUG9"}]}}
    with respx.mock(assert_all_called=False) as mock:
        _server(mock, [f.searchset([])], MedicationRequest=httpx.Response(200, json=f.searchset([order])))
        mock.get(f"{FHIR}/Medication/med1").respond(json=medication)
        status, answer = _run_json(["--fhir-server", FHIR, "--patient", "p1"], capsys)
    assert status == 1
    assert _codes(answer) == {("drug", LAB, "DRUG9")}
    assert answer["unrecognised"][0]["resources"] == ["MedicationRequest/m1 (Medication/med1)"]


@pytest.mark.integration
def test_against_the_fhir_test_server(fhir_base: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The examples loaded into a real FHIR server give what the file gives."""
    status, from_server = _run_json(["--fhir-server", fhir_base, "--patient", LOCAL_PATIENT], capsys)
    _, from_file = _run_json([str(LOCAL_EXAMPLE)], capsys)

    assert status == 1
    assert _codes(from_server) == _codes(from_file)
    assert _codes(from_server, "recognisedOnlyByText") == _codes(from_file, "recognisedOnlyByText")
    assert from_server["resourcesRead"] == from_file["resourcesRead"] == 9


def test_a_file_with_two_patients_needs_patient(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = tmp_path / "two.json"
    entries = [{"resource": r} for r in (f.patient("p1"), f.patient("p2"), f.observation("o", "X", system=LAB))]
    bundle.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}))

    assert main(["codes", str(bundle)]) == 2
    assert "name one with --patient" in capsys.readouterr().err
    status, answer = _run_json([str(bundle), "--patient", "p2"], capsys)
    assert (status, answer["unrecognised"], answer["leftOutOtherPatients"]) == (0, [], 2)


def test_codes_without_a_system_are_listed_but_left_out_of_the_skeleton(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = f.observation("o", "HER2LOCAL", system=LAB)
    del odd["code"]["coding"][0]["system"]
    odd["code"]["text"] = "HER2"
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(odd))

    status, answer = _run_json([str(path)], capsys)

    assert status == 1
    (item,) = answer["unrecognised"]
    assert item["system"] == "" and any("no system" in n for n in item["notes"])
    assert "conceptMap" not in answer


def test_urn_uuid_references_count_as_the_patients(capsys: pytest.CaptureFixture[str]) -> None:
    """An mCODE export whose resources name their patient by `urn:uuid:` fullUrl, as a server would have them."""
    path = REPO_ROOT / "examples" / "fhir" / "mcode-ctm-breastcancertrials" / "patient_data.json"

    status, answer = _run_json([str(path)], capsys)

    assert status == 1
    assert answer["leftOutOtherPatients"] == 0 and answer["resourcesRead"] == 4
    # Its HER2 IHC result carries LOINC "34566", not a LOINC code the service knows: listed, first.
    assert answer["unrecognised"][0]["code"] == "34566" and answer["unrecognised"][0]["likelyRelevant"]
    assert _codes(answer, "recognisedOnlyByText") == {("drug", "http://www.nlm.nih.gov/research/umls/rxnorm", "904425")}
