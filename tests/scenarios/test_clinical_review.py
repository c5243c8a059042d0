"""Findings of the clinical review of the first engine draft, kept as regressions."""

from fastapi.testclient import TestClient

from tests.scenarios import records as r
from tests.scenarios.helpers import card_for, select, shown_rows, topics, view
from tests.utils import clinical as c
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

    assert card_for(cards, "S9")["indicator"] == "critical"  # ILD before a first T-DXd dose (issue 7)
    assert cards[0]["indicator"] == "critical"  # critical cards come first


# -- second review: contraindications next to the options, dates, HER2 history, pCR ---------------


def test_pregnant_patient_sees_the_contraindication_next_to_the_proposed_regimens(
    client: TestClient, templates: dict[str, str]
) -> None:
    """Untreated cT2 cN1 HER2+ and pregnant: N2 (TCbHP) is shown, and so is S7, critical."""
    cards = view(client, templates, [*r.early_before_surgery("cT2", "cN1"), c.pregnant()])

    assert "N2" in topics(cards)
    assert card_for(cards, "S7")["indicator"] == "critical" and cards[0]["indicator"] == "critical"


def test_ild_on_record_shows_with_t_dxd_options(client: TestClient, templates: dict[str, str]) -> None:
    cards = view(client, templates, [*r.early_relapse_after_adjuvant_trastuzumab(), c.ild()])

    assert "M6" in shown_rows(cards)
    assert card_for(cards, "S9")["indicator"] == "critical"  # T-DXd not yet given: pre-treatment work-up


def test_low_lvef_shows_with_proposed_anti_her2_regimens(client: TestClient, templates: dict[str, str]) -> None:
    cards = view(client, templates, [*r.early_before_surgery("cT2", "cN1"), c.lvef(40, when=ago(days=5))])

    assert "LVEF 40 % below 50 %" in card_for(cards, "S1")["summary"]


def test_an_old_not_pregnant_result_does_not_hide_a_current_pregnancy(
    client: TestClient, templates: dict[str, str]
) -> None:
    not_pregnant = c.observation("82810-3", c.coded(c.SNOMED, "60001007", "Not pregnant"), when=ago(days=200))
    pregnancy = c.condition("77386006", "Pregnancy", onset=ago(days=40))
    record = [*r.on_trastuzumab((60, 30)), not_pregnant, pregnancy]

    assert card_for(view(client, templates, record), "S7")["indicator"] == "critical"
    assert card_for(select(client, templates, record, c.order("trastuzumab")), "S7")["indicator"] == "critical"


def test_a_stale_not_pregnant_result_asks_to_verify_again(client: TestClient, templates: dict[str, str]) -> None:
    not_pregnant = c.observation("82810-3", c.coded(c.SNOMED, "60001007", "Not pregnant"), when=ago(days=60))
    record = [*r.early_before_surgery("cT2", "cN1"), not_pregnant]

    card = card_for(select(client, templates, record, c.order("trastuzumab")), "S7")

    assert card["indicator"] == "info" and "verify" in card["detail"]  # a line of the order's own card


def test_her2_low_residual_disease_after_her2_positive_biopsy_is_an_mdt_question(
    client: TestClient, templates: dict[str, str]
) -> None:
    """IHC 3+ at diagnosis, IHC 1+ on the residual tumour: not silently HER2-low (no L4), T11 asks the MDT."""
    record = [*r.after_neoadjuvant("ypT1c", "ypN0"), c.her2_ihc("1+", when=ago(days=20))]

    cards = view(client, templates, record)

    assert "MDT" in cards[0]["summary"] and "HER2 results conflict" in cards[0]["detail"]
    assert card_for(cards, "T11")["indicator"] == "warning"
    assert "L4" not in topics(cards)
    order_cards = select(client, templates, record, c.order("trastuzumab-emtansine"))
    assert "order-her2-unsettled" in topics(order_cards) and "order-her2-mismatch" not in topics(order_cards)


def test_positive_then_negative_without_score_is_reported(client: TestClient, templates: dict[str, str]) -> None:
    record = [
        c.breast_cancer(onset=ago(months=40)),
        c.metastasis("liver", onset=ago(months=2)),
        c.her2_ihc("3+", when=ago(months=38)),
        c.her2_interpretation("negative", when=ago(months=1)),
    ]

    assert "T11" in topics(view(client, templates, record))


def test_ypt_x_leaves_the_response_unknown(client: TestClient, templates: dict[str, str]) -> None:
    shown = shown_rows(view(client, templates, r.after_neoadjuvant("ypTX", "ypN0")))

    assert not {"A1", "A2", "A3"} & shown


def test_isolated_tumour_cells_are_not_a_complete_response(client: TestClient, templates: dict[str, str]) -> None:
    shown = shown_rows(view(client, templates, r.after_neoadjuvant("ypT0", "ypN0(i+)")))

    assert "A3" in shown and not {"A1", "A2"} & shown


def test_pathology_written_pt_pn_after_neoadjuvant_therapy_is_post_neoadjuvant(
    client: TestClient, templates: dict[str, str]
) -> None:
    """LOINC has no yp code: pT1c pN1 after neoadjuvant HP + docetaxel is residual disease (A3), not A6."""
    shown = shown_rows(view(client, templates, r.after_neoadjuvant("pT1c", "pN1")))

    assert "A3" in shown and "A6" not in shown


def test_plain_ihc_0_is_not_declared_ineligible_for_adcs(client: TestClient, templates: dict[str, str]) -> None:
    """HR+ metastatic, IHC "0" after endocrine therapy: may be ultralow (L2); ask, do not apply L5."""
    record = [
        *r.her2_zero(metastatic=True, hr=True, score="0"),
        c.given("letrozole", start=ago(months=2, days=-5), end=ago(days=10)),
    ]

    cards = view(client, templates, record)

    assert "T9" in shown_rows(cards) and "L5" not in shown_rows(cards)
    assert "L5" not in topics(select(client, templates, record, c.order("trastuzumab-deruxtecan")))


def test_relapse_soon_after_adjuvant_t_dm1_is_trastuzumab_resistant(
    client: TestClient, templates: dict[str, str]
) -> None:
    record = [
        c.breast_cancer(onset=ago(months=24)),
        c.metastasis("lung", onset=ago(months=2)),
        c.her2_ihc("3+", when=ago(months=2)),
        *c.hormone_receptors(False),
        c.given("trastuzumab-emtansine", start=ago(months=14), end=ago(months=6)),
    ]

    shown = shown_rows(view(client, templates, record))

    assert "M6" in shown and "M1" not in shown


def test_a_recovered_lvef_between_two_drops_is_not_a_persistent_decline(
    client: TestClient, templates: dict[str, str]
) -> None:
    cards = view(client, templates, r.on_trastuzumab((65, 130), (45, 100), (63, 50), (45, 5)))

    assert "S2" in topics(cards) and "S4" not in topics(cards)


def test_one_low_lvef_on_trastuzumab_is_flagged(client: TestClient, templates: dict[str, str]) -> None:
    record = [
        *r.after_upfront_surgery("pT2", "pN1", stage="IIB"),
        c.given("trastuzumab", start=ago(days=10), status="active"),
        c.lvef(38, when=ago(days=5)),
    ]

    assert "on anti-HER2 therapy, below 50 %" in card_for(view(client, templates, record), "S1")["summary"]


def test_adjuvant_pertuzumab_is_not_a_metastatic_induction(client: TestClient, templates: dict[str, str]) -> None:
    """Relapse 5 years after adjuvant HP: M5 (maintenance after THP induction) does not apply."""
    record = [
        c.breast_cancer(onset=ago(months=72)),
        c.metastasis("bone", onset=ago(months=2)),
        c.her2_ihc("3+", when=ago(months=2)),
        *c.hormone_receptors(False),
        c.given("trastuzumab", start=ago(months=70), end=ago(months=60)),
        c.given("pertuzumab", start=ago(months=70), end=ago(months=60)),
    ]

    shown = shown_rows(view(client, templates, record))

    assert "M5" not in shown and "M1" in shown


def test_partial_and_impossible_dates_never_fail_the_call(client: TestClient, templates: dict[str, str]) -> None:
    metastasis = c.metastasis("liver")
    metastasis["onsetDateTime"] = "2024"  # year precision is valid FHIR
    impossible = c.given("trastuzumab", start="2024-02-30", end="2024-09")
    record = [*r.her2_positive(), metastasis, impossible, c.given("pertuzumab", start="2024-03", end="2024-09")]

    cards = view(client, templates, record)

    assert cards[0]["summary"].startswith("HER2-positive")


def test_status_card_shows_age_and_ki67(client: TestClient, templates: dict[str, str]) -> None:
    ki67 = c.observation("85330-9", {"valueQuantity": {"value": 30, "unit": "%"}}, when=ago(months=2))
    record = [c.patient(age=47), *r.early_before_surgery("cT2", "cN1"), ki67]

    detail = view(client, templates, record)[0]["detail"]

    assert "- Age: **47**" in detail and "- Ki-67: **30 %**" in detail


def test_thp_leads_for_a_patient_over_60(client: TestClient, templates: dict[str, str]) -> None:
    """C7: THP ×6 can be considered over 60; the record shows the age, so N3 comes first (then N2)."""
    old = view(client, templates, [c.patient(age=72), *r.early_before_surgery("cT2", "cN1")])
    young = view(client, templates, [c.patient(age=45), *r.early_before_surgery("cT2", "cN1")])

    assert [t for t in topics(old) if t.startswith("N")][:2] == ["N3", "N2"]
    assert "- Age: **72**" in card_for(old, "N3")["detail"]
    assert [t for t in topics(young) if t.startswith("N")][0] == "N2"


def test_heart_failure_on_record_shows_beside_the_lvef(client: TestClient, templates: dict[str, str]) -> None:
    record = [*r.early_before_surgery("cT2", "cN1"), c.condition("84114007", "Heart failure", onset=ago(months=6))]

    card = card_for(select(client, templates, record, c.order("trastuzumab")), "S1")

    assert "Heart failure / LV dysfunction on record: **yes**" in card["detail"]
