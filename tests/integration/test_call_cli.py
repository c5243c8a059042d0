"""`her2-cds call`: in-process, against a running service, JSON, Chinese, order hooks, and every error path."""

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from cds_service.cli import main
from cds_service.config import REPO_ROOT
from tests.integration.test_cli import _free_port
from tests.utils.conformance import assert_response_conforms

pytestmark = pytest.mark.integration

METASTATIC = "her2-positive-metastatic-second-line"
EARLY = REPO_ROOT / "examples" / "synthetic" / "her2-positive-ihc2-ish-amplified.json"
LOCAL_CODES = "her2-local-codes-chinese-hospital"
CONCEPT_MAP = str(REPO_ROOT / "examples" / "conceptmap" / "hospital-local-codes.conceptmap.json")


def _call(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["call", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _summaries(out: str) -> list[str]:
    answer = json.loads(out)
    assert_response_conforms(answer)
    return [card["summary"] for card in answer["cards"]]


@pytest.fixture(scope="module")
def service_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`her2-cds serve` on a free loopback port; Chinese cards by default, so a test can tell it from in-process."""
    port = _free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "HER2_CDS_DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('serve') / 'db.sqlite3'}",
        "HER2_CDS_LANGUAGE": "zh-CN",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "cds_service", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, "the service exited"
                assert time.monotonic() < deadline, "the service did not come up"
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_in_process_patient_view_shows_the_cards_as_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "users.sqlite3"
    monkeypatch.setenv("HER2_CDS_DATABASE_URL", f"sqlite:///{database}")

    code, out, err = _call(capsys, "patient-view", METASTATIC)

    assert (code, err) == (0, "")
    assert out.startswith("her2-patient-view · Patient/her2-demo-metastatic · 5 cards\n")
    assert "WARNING  card 2 of 5" in out
    assert "Second line or trastuzumab-resistant: T-DXd · Level I, inferred" in out
    assert "Not now: LVEF below the threshold to start or at the hold threshold" in out  # detail, as Markdown
    assert "LVEF 47 % below 50 %: anti-HER2 start not advised" in out
    assert "Order echocardiogram (LVEF) (recommended)" in out  # a suggestion
    assert "Read the 2025 consensus: https://doi.org/10.21037/tbcr-25-34" in out  # a link
    assert "Source: Chinese HER2 consensus 2025" in out and "rule M6" in out
    assert "\x1b[" not in out  # not a terminal: plain text
    assert not database.exists()  # a trial call is not recorded in the user's database


def test_colour_only_on_a_terminal_without_no_color(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich's switch for "this is a terminal"
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    _, coloured, _ = _call(capsys, "patient-view", METASTATIC)
    monkeypatch.setenv("NO_COLOR", "1")
    _, uncoloured, _ = _call(capsys, "patient-view", METASTATIC)

    yellow = "\x1b[1;33m"  # the warning indicator
    assert yellow in coloured
    assert yellow not in uncoloured and "\x1b[33m" not in uncoloured


def test_in_process_order_sign_checks_the_ordered_drug(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _call(capsys, "order-sign", METASTATIC, "--order", "T-DXd", "--json")

    assert code == 0
    summaries = _summaries(out)
    assert any(
        # LVEF 47 % before a first T-DXd dose: the fit reads "not advised now", as patient-view's "Not now" does.
        s.startswith(
            "Not advised now (LVEF below the start threshold): trastuzumab deruxtecan (T-DXd); otherwise fits "
            "Second line or trastuzumab-resistant"
        )
        for s in summaries
    ), summaries
    assert "Baseline LVEF older than 90 days (2025-09-25): repeat before starting" in summaries


def test_order_select_by_service_id_file_path_and_brand(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _call(capsys, "her2-order-select", str(EARLY), "--order", "Ogivri")

    assert code == 0
    assert out.startswith("her2-order-select · Patient/her2-demo-positive · 2 cards")
    assert "Fits consensus: Ogivri (trastuzumab), TCbHP ×6 (preferred neoadjuvant" in out


def test_two_orders_get_a_card_each_and_one_for_the_combination(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _call(capsys, "order-sign", METASTATIC, "--order", "T-DXd", "--order", "Herceptin", "--json")

    assert code == 0
    summaries = _summaries(out)
    assert "trastuzumab, trastuzumab deruxtecan (T-DXd) ordered together: no consensus regimen combines them" in (
        summaries
    )
    assert any(s.startswith("CONTRAINDICATED now (LVEF at hold threshold): Herceptin (trastuzumab)") for s in summaries)
    assert any(
        s.startswith("Not advised now (LVEF below the start threshold): trastuzumab deruxtecan") for s in summaries
    )


def test_chinese_cards_for_local_codes_and_a_chinese_drug_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HER2_CDS_CONCEPT_MAPS", CONCEPT_MAP)

    code, out, _ = _call(capsys, "order-sign", f"{LOCAL_CODES}.json", "--order", "汉曲优", "--lang", "zh-CN")

    assert code == 0
    assert "符合共识：汉曲优（曲妥珠单抗），TCbHP × 6 周期（优选新辅助方案）" in out
    assert "未见LVEF：抗HER2治疗前需基线超声心动图" in out


def test_request_only_prints_a_full_request(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _call(capsys, "order-select", METASTATIC, "--order", "pertuzumab", "--request-only")

    assert code == 0
    request: dict[str, Any] = json.loads(out)
    assert request["hook"] == "order-select"
    assert request["context"]["selections"] == ["MedicationRequest/draft-1"]
    order = request["context"]["draftOrders"]["entry"][0]["resource"]
    assert order["medicationCodeableConcept"]["text"] == "pertuzumab"
    assert request["prefetch"]["patient"]["id"] == "her2-demo-metastatic"
    assert request["prefetch"]["safety"]["total"] == 2  # both LVEF readings


def test_over_http_the_running_service_answers(service_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _call(capsys, "patient-view", METASTATIC, "--url", service_url)

    assert (code, err) == (0, "")
    assert out.startswith("her2-patient-view · Patient/her2-demo-metastatic · 5 cards")
    # In the server's default language: it was the server that answered.
    assert "LVEF 47%低于50%：不建议开始抗HER2治疗" in out
    assert "二线或曲妥珠单抗耐药：T-DXd·I级（推断）" in out


def test_over_http_json_in_english_with_the_discovery_url(service_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ("order-sign", METASTATIC, "--order", "Enhertu", "--url", f"{service_url}/cds-services/", "--json")

    code, out, _ = _call(capsys, *argv, "--lang", "en")

    assert code == 0
    assert any(s.startswith("Not advised now (LVEF below the start") for s in _summaries(out))


def test_over_http_request_only_uses_the_services_templates(
    service_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _call(capsys, "patient-view", METASTATIC, "--url", service_url, "--request-only")

    assert code == 0
    discovery = httpx.get(f"{service_url}/cds-services").json()["services"]
    templates = next(s["prefetch"] for s in discovery if s["hook"] == "patient-view")
    assert set(json.loads(out)["prefetch"]) == set(templates)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["order-sign", METASTATIC, "--order", "aspirin"], "unknown drug 'aspirin'; anti-HER2 drugs: trastuzumab,"),
        (["patient-view", "nobody"], "unknown patient 'nobody': not a file, nor an example patient (her2-ihc2-"),
        (["patient-review", METASTATIC], "unknown hook 'patient-review'; one of patient-view, order-select"),
        (["patient-view", METASTATIC, "--order", "T-DXd"], "patient-view takes no order"),
        (["order-sign", METASTATIC], "order-sign needs at least one order (--order DRUG)"),
        (["patient-view", METASTATIC, "--url", "ftp://example.org"], "--url 'ftp://example.org' is not an http(s) URL"),
        (["patient-view", METASTATIC, "--url", "http://[::1"], "--url 'http://[::1' is not an http(s) URL"),
    ],
)
def test_errors_are_one_line_on_stderr(argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _call(capsys, *argv)

    assert code == 1 and out == ""
    assert err.startswith(f"her2-cds call: {says}") and err.count("\n") == 1, err


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ('{"resourceType": "Bundle", "entry": [', "not valid JSON (Expecting value, line 1 column 38)"),
        ("[1, 2]", "not a FHIR resource: a JSON object with a resourceType is expected"),
        (
            '{"resourceType": "Bundle", "type": "collection"}',
            "the bundle must hold exactly one Patient with an id (no Patient found)",
        ),
        ('{"resourceType": "Bundle", "entry": {"resource": 1}}', "Bundle.entry is not a list"),
    ],
)
def test_a_bad_bundle_is_named_in_one_line(
    content: str, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = tmp_path / "bundle.json"
    bundle.write_text(content, encoding="utf-8")

    code, out, err = _call(capsys, "patient-view", str(bundle))

    assert code == 1 and out == ""
    assert err == f"her2-cds call: {bundle}: {says}\n"


def test_an_unreachable_service_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{_free_port()}"  # nothing listens there

    code, out, err = _call(capsys, "patient-view", METASTATIC, "--url", url)

    assert code == 1 and out == ""
    assert err == f"her2-cds call: cannot reach {url}/cds-services (ConnectError); is the service running (make run)?\n"


def test_an_error_answer_shows_its_operation_outcome(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HER2_CDS_MAX_DRAFT_ORDERS", "1")

    code, out, err = _call(capsys, "order-sign", METASTATIC, "--order", "T-DXd", "--order", "pertuzumab")

    assert code == 1 and out == ""
    assert err == (
        "her2-cds call: her2-order-sign: HTTP 413 context.draftOrders: 2 orders, more than the 1 this service "
        "checks in one call\n"
    )


def test_a_url_without_a_cds_service_is_one_line(service_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _call(capsys, "patient-view", METASTATIC, "--url", f"{service_url}/elsewhere")

    assert code == 1 and out == ""
    assert err == f"her2-cds call: discovery {service_url}/elsewhere/cds-services: HTTP 404 Not Found\n"


def test_a_bad_configuration_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HER2_CDS_CONCEPT_MAPS", "/nonexistent/local.conceptmap.json")

    code, out, err = _call(capsys, "patient-view", METASTATIC)

    assert code == 1 and out == ""
    assert (
        err.startswith("her2-cds call: /nonexistent/local.conceptmap.json: (file): cannot read")
        and err.count("\n") == 1
    )


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (httpx.Response(200, json={"services": [{"hook": "order-sign", "id": "x"}]}), "no service for patient-view"),
        (httpx.Response(200, text="<html>"), "not a CDS Hooks discovery response"),
        (httpx.Response(200, json={"services": [{"hook": "patient-view"}]}), "not a CDS Hooks discovery response"),
        (
            httpx.Response(401, json={"resourceType": "OperationOutcome", "issue": [{"diagnostics": "no JWT"}]}),
            "HTTP 401 no JWT",
        ),
    ],
)
def test_a_discovery_that_does_not_name_the_service_is_one_line(
    answer: httpx.Response, says: str, respx_mock: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    respx_mock.get("http://cds.example.org/cds-services").mock(return_value=answer)

    code, out, err = _call(capsys, "patient-view", METASTATIC, "--url", "http://cds.example.org")

    assert code == 1 and out == ""
    assert err == f"her2-cds call: discovery http://cds.example.org/cds-services: {says}\n"
