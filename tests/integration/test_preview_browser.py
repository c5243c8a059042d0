"""The preview page in a real browser: Playwright driving Debian's chromium against `her2-cds serve` on 127.0.0.1.

Playwright's own browser download cannot work here, so the test uses /usr/bin/chromium (`apt-get install
chromium`; .ci/run installs it). Without it the test skips, unless HER2_REQUIRE_BROWSER=1 (CI), where it fails."""

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cds_service.config import REPO_ROOT
from tests.utils import clinical as c
from tests.utils.processes import stop

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO_ROOT / "test-artifacts"
START_SECONDS = 60.0
LOW = "her2-low-metastatic-after-chemotherapy"  # HER2-low, metastatic after chemotherapy: T-DXd fits (row L1)

# The page's indicator colours (preview.css), as the browser computes them.
COLOURS = {"info": "rgb(21, 101, 192)", "warning": "rgb(178, 106, 0)", "critical": "rgb(198, 40, 40)"}


def _browser_or_skip() -> None:
    missing = None
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} is not installed (apt-get install -y chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "the playwright Python package is not installed (pip install -e '.[test]')"
    if missing is None:
        return
    if os.environ.get("HER2_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser test required (HER2_REQUIRE_BROWSER=1) but {missing}")
    pytest.skip(f"no browser: {missing}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`her2-cds serve` on 127.0.0.1 with the default settings: HER2_CDS_PREVIEW=auto serves the page there."""
    _browser_or_skip()
    folder = tmp_path_factory.mktemp("preview-browser")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HER2_CDS_")}
    env.update(HER2_CDS_DATABASE_URL=f"sqlite:///{folder / 'cards.sqlite3'}", HER2_CDS_LOG_LEVEL="WARNING")
    with (folder / "server.log").open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "cds_service", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + START_SECONDS
            while True:
                if server.poll() is not None:
                    pytest.fail(f"the service exited with {server.returncode}: {(folder / 'server.log').read_text()}")
                try:
                    if httpx.get(f"{base}/readyz", timeout=1.0).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail("the service did not become ready")
                time.sleep(0.2)
            yield base
        finally:
            stop(server, timeout=30)


@pytest.fixture(scope="module")
def page(service: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 1000})
            tab.goto(f"{service}/preview")
            tab.wait_for_selector("body[data-ready=true]")
            yield tab
        finally:
            browser.close()


def _show(page: Any, *, hook: str, order: str | None, language: str) -> None:
    page.select_option("#hook", hook)
    page.select_option("#language", language)
    if order:
        page.select_option("#order", order)
    # A fresh marker: the wait below sees this click's answer, never the previous one.
    page.evaluate("document.getElementById('results').dataset.state = 'idle'")
    page.click("#run")
    page.wait_for_selector("#results[data-state=done], #results[data-state=error]")


def _cards(page: Any) -> list[dict[str, str]]:
    cards: list[dict[str, str]] = page.eval_on_selector_all(
        "#cards article.card",
        """cards => cards.map(card => ({
            summary: card.querySelector('.summary').textContent,
            indicator: card.dataset.indicator,
            badge: card.querySelector('.indicator').textContent,
            classes: card.className,
            colour: getComputedStyle(card).borderLeftColor,
            buttons: Array.from(card.querySelectorAll('.actions button, .actions a')).map(b => b.textContent),
            source: card.querySelector('.source').textContent,
        }))""",
    )
    return cards


def _expected(service: str, **ask: Any) -> list[dict[str, Any]]:
    answer = httpx.post(f"{service}/preview/evaluate", json=ask, timeout=30).json()
    cards: list[dict[str, Any]] = answer["cards"]
    return cards


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_order_sign_cards_show_as_an_ehr_shows_them_next_to_the_facts(page: Any, service: str, language: str) -> None:
    page.check("#source-example")
    page.select_option("#example", LOW)
    _show(page, hook="order-sign", order="trastuzumab-deruxtecan", language=language)
    page.screenshot(path=str(ARTIFACTS / f"preview-order-sign-{language}.png"), full_page=True)

    shown = _cards(page)
    expected = _expected(service, hook="order-sign", example=LOW, orders=["trastuzumab-deruxtecan"], language=language)
    assert [card["summary"] for card in shown] == [card["summary"] for card in expected]
    for card in shown:
        assert f"indicator-{card['indicator']}" in card["classes"].split()
        assert card["colour"] == COLOURS[card["indicator"]]
    fits = (
        "符合共识：德曲妥珠单抗（T-DXd）" if language == "zh-CN" else "Fits consensus: trastuzumab deruxtecan (T-DXd)"
    )
    lvef = "基线LVEF已超过90天" if language == "zh-CN" else "Baseline LVEF older than 90 days"
    [fits_card] = [card for card in shown if card["summary"].startswith(fits)]
    assert fits_card["indicator"] == "info"
    [lvef_card] = [card for card in shown if card["summary"].startswith(lvef)]
    assert lvef_card["indicator"] == "warning"
    assert lvef_card["badge"] == ("警告" if language == "zh-CN" else "warning")
    echo = "申请超声心动图（LVEF）" if language == "zh-CN" else "Order echocardiogram (LVEF)"
    consensus = "阅读2025共识原文" if language == "zh-CN" else "Read the 2025 consensus"
    assert echo in lvef_card["buttons"] and consensus in lvef_card["buttons"]
    source, rule = ("来源：", "规则 S1") if language == "zh-CN" else ("Source: ", "rule S1")
    assert lvef_card["source"].startswith(source) and lvef_card["source"].endswith(rule)
    assert page.locator(".detail strong").count() > 0, "Markdown is rendered, not shown as asterisks"

    facts = page.inner_text("#facts")
    her2, setting = (
        ("HER2状态: HER2低表达", "疾病阶段: 晚期（转移性）")
        if language == "zh-CN"
        else (
            "HER2 status: HER2-low",
            "Disease setting: metastatic",
        )
    )
    assert her2 in facts and setting in facts
    assert "Observation/her2-demo-low-ihc · 2025-02-10" in facts
    assert "MedicationStatement/her2-demo-low-paclitaxel" in facts
    assert "LVEF: 61 %" in facts
    assert page.is_hidden("#error")


def test_the_page_speaks_the_language_chosen_for_the_cards(page: Any) -> None:
    """A committee reading Chinese cards reads the page around them in Chinese too, and back."""
    words = {
        "zh-CN": ("HER2 CDS — 卡片预览", "显示卡片", "患者", "示例患者", "服务得出的患者事实"),
        "en": (
            "HER2 CDS — card preview",
            "Show cards",
            "Patient",
            "Example patient",
            "Patient facts the service derived",
        ),
    }
    for language in ("zh-CN", "en"):
        page.select_option("#language", language)
        title, run, patient, example, facts = words[language]
        assert page.inner_text("h1") == title and page.title() == title
        assert page.inner_text("#run") == run
        assert page.inner_text(".patient legend") == patient
        assert page.get_attribute("#example", "aria-label") == example
        assert page.inner_text("#facts-title") == facts
        assert page.evaluate("document.documentElement.lang") == language
        assert page.locator("label:has(#source-example)").count() == 1, "the radio buttons stay inside their labels"


def test_a_pasted_bundle_of_a_pregnant_patient_shows_critical_cards(page: Any) -> None:
    resources = [c.patient(), c.breast_cancer(), c.her2_ihc("3+"), c.metastasis(), c.pregnant()]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
    page.fill("#bundle", json.dumps(bundle))
    assert page.is_checked("#source-bundle"), "typing into the box chooses it"
    _show(page, hook="order-sign", order="trastuzumab-deruxtecan", language="en")
    page.screenshot(path=str(ARTIFACTS / "preview-pasted-critical.png"), full_page=True)
    shown = _cards(page)
    critical = [card for card in shown if card["indicator"] == "critical"]
    assert critical and all(card["colour"] == COLOURS["critical"] for card in critical)
    assert any(card["summary"].startswith("CONTRAINDICATED now (pregnancy)") for card in critical)
    assert "Pregnancy status: pregnant" in page.inner_text("#facts")


def test_a_bad_bundle_is_one_clear_line_on_the_page(page: Any) -> None:
    page.fill("#bundle", '{"resourceType": "Bundle", "entry": [')
    _show(page, hook="patient-view", order=None, language="en")
    page.screenshot(path=str(ARTIFACTS / "preview-error.png"), full_page=True)
    assert page.inner_text("#error") == "Cannot show cards: the bundle is not acceptable JSON: not valid JSON"
    assert page.locator("#cards article.card").count() == 0


def test_without_chromium_the_browser_test_skips_unless_ci_requires_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", Path("/nonexistent/chromium"))
    monkeypatch.delenv("HER2_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium is not installed"):
        _browser_or_skip()
    monkeypatch.setenv("HER2_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="HER2_REQUIRE_BROWSER=1"):
        _browser_or_skip()


def test_docs_send_the_sample_request_and_show_its_cards(service: str, page: Any) -> None:
    """/docs ("Try it out") sends the documented sample patient-view request and gets cards: with the vendored
    Swagger UI, in a browser that has no internet (every request beyond the service is blocked)."""
    tab = page.context.browser.new_page(viewport={"width": 1400, "height": 1000})
    outside: list[str] = []

    def offline(route: Any) -> None:
        if route.request.url.startswith(service):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    try:
        tab.route("**/*", offline)
        tab.goto(f"{service}/docs")
        operation = tab.locator(".opblock", has_text="/cds-services/her2-patient-view").first
        operation.locator(".opblock-summary").click()
        operation.locator("button.try-out__btn").click()
        operation.locator("button.execute").click()
        status = operation.locator(".live-responses-table tbody td.response-col_status").first
        status.wait_for(timeout=30_000)
        code = (status.text_content() or "").strip()
        body = operation.locator(".live-responses-table .microlight").first.text_content() or ""
        tab.screenshot(path=str(ARTIFACTS / "docs-try-it-out.png"))
    finally:
        tab.close()

    assert code.startswith("200"), code
    assert '"cards"' in body and '"summary"' in body
    assert not outside, outside
