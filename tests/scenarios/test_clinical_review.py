"""Findings of the clinical review of the first engine draft, kept as regressions."""

from fastapi.testclient import TestClient

from tests.scenarios import records as r
from tests.scenarios.helpers import card_for, select, topics, view
from tests.utils import clinical as c
from tests.utils.cards import shown_rows
from tests.utils.clinical import ago


def test_ish_group_without_ihc_asks_for_ihc_not_for_ish(client: TestClient, templates: dict[str, str]) -> None:
    """ISH group 2 on file without IHC: the missing test is IHC (T4), not another ISH."""
    record = [c.breast_cancer(), *c.ish_numbers(2.2, 3.0), c.stage("IIA")]

    cards = view(client, templates, record)

    card = card_for(cards, "T4")
    assert card["indicator"] == "warning" and "concurrent IHC" in card["summary"]
    assert card["suggestions"][0]["actions"][0]["resource"]["code"]["coding"][0]["code"] == "85319-2"
    assert "T2" not in topics(cards)


def test_on_first_line_hp_the_next_line_options_say_so(client: TestClient, templates: dict[str, str]) -> None:
    """Still on first-line HP: second-line options are labelled as options at progression."""
    cards = view(client, templates, r.metastatic_after_first_line())

    first_option = next(card for card in cards if topics([card])[0] in ("M6", "M7"))
    assert "the options below are for line 2, at progression" in first_option["detail"]


def test_a_drug_already_given_for_metastatic_disease_is_not_offered_again(
    client: TestClient, templates: dict[str, str]
) -> None:
    """After THP and then T-DXd, T-DXd (M6) is not proposed for the third line; new regimens are."""
    shown = shown_rows(view(client, templates, r.metastatic_after_two_lines()))

    assert "M6" not in shown
    assert {"M10", "M11"} <= shown  # tucatinib + H + X, neratinib + X: third line


def test_continuing_her2_blockade_with_new_partners_stays(client: TestClient, templates: dict[str, str]) -> None:
    """R3 keeps trastuzumab with abemaciclib + fulvestrant: not a repeat of the first line."""
    shown = shown_rows(view(client, templates, r.metastatic_after_first_line(hr=True)))

    assert "R3" in shown


def test_pt1_pn0_after_upfront_surgery_is_not_offered_the_node_positive_regimen(
    client: TestClient, templates: dict[str, str]
) -> None:
    """pT1c pN0: APT (A7) and TCbH (A8) apply; AC→THP / TCbHP for node-positive disease (A6) does not."""
    shown = shown_rows(view(client, templates, r.after_upfront_surgery("pT1c", "pN0")))

    assert {"A7", "A8"} <= shown and "A6" not in shown


def test_t_dxd_order_on_a_patient_with_ild_is_critical(client: TestClient, templates: dict[str, str]) -> None:
    record = [*r.de_novo_metastatic(), c.ild(), c.lvef(60, when=ago(days=10))]

    cards = select(client, templates, record, c.order("trastuzumab-deruxtecan"))

    assert card_for(cards, "S6")["indicator"] == "critical"
    assert cards[0]["indicator"] == "critical"  # critical cards come first
