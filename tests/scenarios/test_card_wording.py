"""Wording that tells the clinician exactly what is missing or due, in the situation they are in."""

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.utils import clinical as c

from . import records as r
from .helpers import card_for, extension, not_pregnant, order_named, select, sign, suggested_codes, view

ago = c.ago


def test_old_baseline_lvef_before_a_first_dose_is_repeated_before_starting(
    client: TestClient, templates: dict[str, str]
) -> None:
    record = [*r.de_novo_metastatic(), c.lvef(60, when=ago(days=150)), not_pregnant()]

    card = card_for(select(client, templates, record, c.order("trastuzumab")), "S1")

    assert (
        card["summary"].startswith("Baseline LVEF older than 90 days") and "repeat before starting" in card["summary"]
    )


def test_old_lvef_on_therapy_is_a_check_that_is_due(client: TestClient, templates: dict[str, str]) -> None:
    record = [*r.on_trastuzumab((62, 150))]

    card = card_for(select(client, templates, record, c.order("trastuzumab")), "S1")

    assert "due every 90 days" in card["summary"]


def test_pregnancy_is_verified_before_starting_not_on_every_continuing_order(
    client: TestClient, templates: dict[str, str]
) -> None:
    """A woman of 52 with no pregnancy status: asked before a first trastuzumab dose, not while on it."""
    first = select(client, templates, [*r.de_novo_metastatic(), c.lvef(62, when=ago(days=10))], c.order("trastuzumab"))
    continuing = select(client, templates, r.on_trastuzumab((62, 10)), c.order("trastuzumab"))

    assert any("S7" in extension(card).get("rules", []) for card in first)
    assert not any("S7" in extension(card).get("rules", []) for card in continuing)


def test_ish_group_needing_ihc_suggests_ihc_on_that_specimen(client: TestClient, templates: dict[str, str]) -> None:
    """ISH group 4 is on file: the suggestion names the missing IHC, not "IHC with reflex ISH"."""
    cards = view(client, templates, [c.breast_cancer(), *c.ish_numbers(1.8, 4.5)])

    card = card_for(cards, "T6")
    assert suggested_codes(card) == ["85319-2"]
    assert card["suggestions"][0]["label"] == "Order HER2 IHC on the ISH specimen"


def test_one_receptor_known_is_said_as_such(client: TestClient, templates: dict[str, str]) -> None:
    """ER negative and no PR result: "ER negative, PR not recorded", never "HR-negative"."""
    cards = view(client, templates, [c.breast_cancer(), c.her2_ihc("3+"), c.er(False)])

    assert "ER negative, PR not recorded" in cards[0]["summary"]
    chinese = view(client, templates, [c.breast_cancer(), c.her2_ihc("3+"), c.er(False)], lang="zh-CN")
    assert "ER阴性、PR未记录" in chinese[0]["summary"]


def test_units_read_as_words(client: TestClient, templates: dict[str, str]) -> None:
    """A UCUM annotation such as {ratio} is not shown to the clinician."""
    cards = view(client, templates, [c.breast_cancer(), *c.ish_numbers(2.4, 5.1)])

    assert "{" not in "".join(card.get("detail", "") for card in cards)


# -- product notes ---------------------------------------------------------------------------------------
def _ready_de_novo() -> list[dict[str, object]]:
    return [*r.de_novo_metastatic(), c.lvef(62, when=ago(days=10)), not_pregnant()]


def test_product_note_once_per_product_with_a_regulator_link(client: TestClient, templates: dict[str, str]) -> None:
    """Two Ogivri orders signed together: each order its card, the product note once, approvals behind a link."""
    first, second = order_named("Ogivri", "trastuzumab"), order_named("Ogivri", "trastuzumab")

    cards = sign(client, templates, _ready_de_novo(), first, second)

    with_note = [card for card in cards if "BIO6" in extension(card).get("rules", [])]
    assert len(with_note) == 1
    assert any(link["url"].startswith("https://www.nmpa.gov.cn/") for link in with_note[0]["links"])
    assert "Ogivri" in with_note[0]["summary"]


def test_no_product_note_on_an_order_that_should_not_be_given(client: TestClient, templates: dict[str, str]) -> None:
    """Ogivri for a HER2-negative (IHC 1+) early patient: the mismatch card only, no biosimilar advice."""
    record = [c.breast_cancer(), c.her2_ihc("1+"), c.stage("IIA"), c.tnm("cT2"), c.tnm("cN0"), *_ready_de_novo()[-2:]]

    cards = select(client, templates, record, order_named("Ogivri", "trastuzumab"))

    assert cards and not any("BIO6" in extension(card).get("rules", []) for card in cards)
    assert all(card["indicator"] != "info" for card in cards if card["source"]["topic"]["code"].startswith("order"))


def test_us_jurisdiction_speaks_of_the_fda(clients: Callable[[str], TestClient], templates: dict[str, str]) -> None:
    cards = select(clients("US"), templates, _ready_de_novo(), order_named("Kanjinti"))

    card = next(card for card in cards if "BIO6" in extension(card).get("rules", []))
    assert {"BIO4"} <= set(extension(card)["rules"]) and not {"BIO2", "BIO3", "BIO5"} & set(extension(card)["rules"])
    assert any("purplebooksearch.fda.gov" in link["url"] for link in card["links"])


# -- review findings -------------------------------------------------------------------------------------
def test_pregnancy_is_one_card_whatever_the_products(client: TestClient, templates: dict[str, str]) -> None:
    """Herceptin and Ogivri signed for a pregnant patient: one pregnancy card listing both orders."""
    record = [*r.de_novo_metastatic(), c.lvef(62, when=ago(days=10)), c.condition("77386006", "Pregnancy")]
    first, second = order_named("Herceptin", "trastuzumab"), order_named("Ogivri", "trastuzumab")

    cards = sign(client, templates, record, first, second)

    pregnancy = [card for card in cards if card["source"]["topic"]["code"] == "S7"]
    assert len(pregnancy) == 1
    assert first["id"] in pregnancy[0]["detail"] and second["id"] in pregnancy[0]["detail"]


def test_an_order_that_fits_no_option_says_what_to_do(client: TestClient, templates: dict[str, str]) -> None:
    """T-DXd for HER2-low HR-negative disease before any chemotherapy: the warning says what to do, first."""
    cards = select(
        client,
        templates,
        [*r.her2_low_metastatic(hr=False), c.lvef(62, when=ago(days=10))],
        c.order("trastuzumab-deruxtecan"),
    )

    card = card_for(cards, "order-sequence")
    assert card["indicator"] == "warning"
    assert card["detail"].startswith("Check the order")


def test_chinese_cards_name_regimens_drugs_and_statuses_in_chinese(
    client: TestClient, templates: dict[str, str]
) -> None:
    """Maintenance HP (regimen labels "HP maintenance"), drugs given and record statuses: Chinese on Chinese cards."""
    cards = view(client, templates, r.metastatic_after_first_line(hr=True), lang="zh-CN")

    action = "\n".join(card.get("detail", "").split("**依据**")[0] for card in cards)
    assert "maintenance" not in action and "active" not in action
    basis = "\n".join(card.get("detail", "") for card in cards)
    assert "**trastuzumab" not in basis and "**pertuzumab" not in basis  # drug facts named in Chinese


def test_the_decisive_line_shows_a_result_only_when_it_is_the_one_source(
    client: TestClient, templates: dict[str, str]
) -> None:
    """ISH group 3 with IHC 2+: HER2-positive, and the ratio 1.5 is not shown as if it decided it."""
    cards = view(client, templates, [c.breast_cancer(), *c.ish_numbers(1.5, 6.5), c.her2_ihc("2+")])

    assert "HER2-positive (1.5" not in cards[0].get("detail", "")


def test_t_dxd_after_neoadjuvant_therapy_is_checked_against_the_high_risk_criteria(
    client: TestClient, templates: dict[str, str]
) -> None:
    """Residual disease: cT2 cN0 ypN0 is not DESTINY-Breast05's population (T-DM1 is the option); ypN1 is."""
    ready = [c.lvef(62, when=ago(days=10)), not_pregnant()]
    low_risk = select(
        client, templates, [*r.after_neoadjuvant("ypT1c", "ypN0"), *ready], c.order("trastuzumab-deruxtecan")
    )
    high_risk = select(
        client, templates, [*r.after_neoadjuvant("ypT1c", "ypN1"), *ready], c.order("trastuzumab-deruxtecan")
    )

    low = card_for(low_risk, "A4")
    assert low["indicator"] == "warning" and "outside the trial population" in low["summary"]
    assert "**not met**" in low["detail"]
    high = card_for(high_risk, "A4")
    assert high["indicator"] == "info" and high["summary"].startswith("Fits consensus") and "**met**" in high["detail"]


def test_destiny_breast06_line_count_is_read_from_the_record(client: TestClient, templates: dict[str, str]) -> None:
    """HR+ HER2-ultralow after one endocrine line: "≥2 lines" is not met per record, the rest is to confirm;
    after two lines it is met."""
    one_line = [*r.ultralow_metastatic_after_endocrine(), c.lvef(62, when=ago(days=10)), not_pregnant()]
    two_lines = [*one_line, c.given("fulvestrant", start=ago(days=15), status="active")]

    one = card_for(select(client, templates, one_line, c.order("trastuzumab-deruxtecan")), "L2")
    two = card_for(select(client, templates, two_lines, c.order("trastuzumab-deruxtecan")), "L2")

    assert "≥2 endocrine lines for metastatic disease (DESTINY-Breast06): **not met**" in one["detail"]
    assert "CDK4/6 inhibitor" in one["detail"].split("**Basis**")[0]  # what is left to confirm
    assert "≥2 endocrine lines for metastatic disease (DESTINY-Breast06): **met**" in two["detail"]
