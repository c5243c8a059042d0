"""One scenario per knowledge-base row: a small record in, through the real API, the row out.

A row surfaces in one of three ways, and the table says which:
- `topic`: a card whose topic (source.topic.code) is the row, with the expected indicator;
- `shown`: a recommendation row among those the clinician sees (a card, or listed under "Also matching");
- `cited`: quoted in the detail of another card (ISH groups 2 and 4 in the HER2 status card, the biosimilar rows
  in the BIO6 order card).
`not_shown` names rows that must stay out for the same patient (the clinically neighbouring options)."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.utils import clinical as c

from . import records as r
from .helpers import (
    KINDS,
    Card,
    Resource,
    card_for,
    checked_before_start,
    extension,
    ish,
    not_pregnant,
    order_named,
    pregnancy_condition,
    select,
    serum_her2,
    shown_rows,
    sign,
    suggested_codes,
    topics,
    view,
)

ago = c.ago


@dataclass(frozen=True)
class Scenario:
    row: str
    situation: str
    record: Callable[[], list[Resource]]
    expect: str  # topic | shown | cited
    indicator: str = "info"
    hook: str = "patient-view"  # patient-view | order-select | order-sign
    order: Callable[[], Resource] | None = None
    cited_in: str = "BIO6"
    not_shown: tuple[str, ...] = ()
    xfail: str | None = None
    jurisdiction: str = "CN"  # biosimilar guidance follows the configured jurisdiction

    def run(self, client: TestClient, templates: dict[str, str]) -> list[Card]:
        if self.hook == "patient-view":
            return view(client, templates, self.record())
        assert self.order is not None
        if self.hook == "order-select":
            return select(client, templates, self.record(), self.order())
        return sign(client, templates, self.record(), self.order())


def _her2(*resources: Resource | list[Resource]) -> Callable[[], list[Resource]]:
    """A breast-cancer chart with these HER2 results and nothing else (setting unknown)."""

    def record() -> list[Resource]:
        flat: list[Resource] = [c.breast_cancer()]
        for item in resources:
            flat += item if isinstance(item, list) else [item]
        return flat

    return record


def _ready(build: Callable[[], list[Resource]]) -> Callable[[], list[Resource]]:
    """The record plus a recent LVEF and a negative pregnancy status, so an order shows only what it should."""
    return lambda: [*build(), *checked_before_start()]


def _drug(drug: str) -> Callable[[], Resource]:
    return lambda: c.order(drug)


def _named(text: str, drug: str | None = None) -> Callable[[], Resource]:
    return lambda: order_named(text, drug)


NEOADJUVANT_CT2 = r.early_before_surgery
SMALL_NODE_NEGATIVE = partial(r.early_before_surgery, "cT1b", "cN0", stage="I")
CT1C_N0 = partial(r.early_before_surgery, "cT1c", "cN0", stage="IA")
UPFRONT_PT2_N0 = partial(r.after_upfront_surgery, "pT2", "pN0", stage="IIA")
PCR_CN0 = partial(r.after_neoadjuvant, "ypT0", "ypN0")
PCR_CN1 = partial(r.after_neoadjuvant, "ypT0", "ypN0", cn="cN1")
RESIDUAL = partial(r.after_neoadjuvant, "ypT2", "ypN1")
UPFRONT_NODE_POSITIVE = partial(r.after_upfront_surgery, "pT2", "pN1", stage="IIB")
UPFRONT_PT1C_N0 = partial(r.after_upfront_surgery, "pT1c", "pN0", stage="IA")
HR_POSITIVE_EARLY = partial(r.early_before_surgery, hr=True)
DE_NOVO = r.de_novo_metastatic
DE_NOVO_HR_POSITIVE = partial(r.de_novo_metastatic, hr=True)
BRAIN = partial(r.de_novo_metastatic, site="brain")
SECOND = r.metastatic_after_first_line
SECOND_HR_POSITIVE = partial(r.metastatic_after_first_line, hr=True)
THIRD = r.metastatic_after_two_lines
RESISTANT = r.early_relapse_after_adjuvant_trastuzumab
SENSITIVE_RELAPSE = r.late_relapse_after_adjuvant_trastuzumab
ADJUVANT_H_HR_POSITIVE = r.adjuvant_trastuzumab_hr_positive
LOW_AFTER_CHEMO = partial(r.her2_low_metastatic, hr=False, chemo=True)
LOW_AFTER_ENDOCRINE = partial(r.her2_low_metastatic, hr=True, endocrine=True)
LOW_METASTATIC = partial(r.her2_low_metastatic, hr=False)
FIRST_LINE = ("M1", "M2", "M3", "M4")
SECOND_LINE = ("M6", "M7", "M8", "M9", "M15", "M16")
THIRD_LINE = ("M10", "M11", "M12", "M13", "M14")
BREAST_CANCER_PLANS = ("N1", "N2", "N3", "N4", "N5", "N6", "A1", "A2", "A3", "A6", "A7", "A8")
ZERCEPAC = "注射用曲妥珠单抗 汉曲优"  # Henlius' trastuzumab biosimilar, ordered by its Chinese brand


def _lvef(*readings: tuple[float, int]) -> Callable[[], list[Resource]]:
    return partial(r.on_trastuzumab, *readings)


def _pregnant_ordering() -> list[Resource]:
    return [*r.de_novo_metastatic(), c.lvef(62, when=ago(days=10)), c.pregnant()]


def _ild_before_first_tdxd() -> list[Resource]:
    return [*r.metastatic_after_first_line(), *checked_before_start(), c.ild()]


def _no_lvef_ordering() -> list[Resource]:
    return [*r.de_novo_metastatic(), not_pregnant()]


# fmt: off
SCENARIOS: list[Scenario] = [
    # -- §2.1 testing and classification -----------------------------------------------------------------------------
    Scenario("T1", "IHC 3+ is HER2-positive", _her2(c.her2_ihc("3+")), "topic"),
    Scenario("T2", "IHC 2+ without ISH: order reflex ISH", _her2(c.her2_ihc("2+")), "topic", "warning"),
    Scenario("T3", "IHC 2+, ISH ratio 2.5 and 5 copies (group 1): positive", _her2(ish(2.5, 5.0, ihc="2+")), "topic"),
    Scenario("T4", "IHC 2+, ISH ratio 2.2 and 3 copies (group 2): resolved by IHC, HER2-low",
             _her2(ish(2.2, 3.0, ihc="2+")), "cited", cited_in="T8"),
    Scenario("T5", "IHC 2+, ISH ratio 1.5 and 7 copies (group 3): positive", _her2(ish(1.5, 7.0, ihc="2+")), "topic"),
    Scenario("T6", "IHC 2+, ISH ratio 1.5 and 5 copies (group 4): resolved by IHC, HER2-low",
             _her2(ish(1.5, 5.0, ihc="2+")), "cited", cited_in="T8"),
    Scenario("T7", "ISH ratio 1.5 and 3 copies (group 5): not amplified", _her2(ish(1.5, 3.0)), "topic"),
    Scenario("T8", "IHC 1+ is HER2-low", _her2(c.her2_ihc("1+")), "topic"),
    Scenario("T9", "IHC 0 with faint staining is HER2-ultralow", _her2(c.her2_ihc_text("HER2-ultralow")), "topic"),
    Scenario("T10", "IHC 0 with no staining is HER2-0", _her2(c.her2_ihc("null")), "topic"),
    Scenario("T11", "IHC 3+ and IHC 0 on one specimen conflict", _her2(c.her2_ihc("3+"), c.her2_ihc("0")),
             "topic", "warning"),
    Scenario("T12", "serum HER2 on file next to tissue IHC 3+", _her2(c.her2_ihc("3+"), serum_her2()), "topic"),
    # -- §2.2 neoadjuvant --------------------------------------------------------------------------------------------
    Scenario("N1", "cT2 cN0 HER2+ before surgery: neoadjuvant therapy", NEOADJUVANT_CT2, "shown", not_shown=("N6",)),
    Scenario("N2", "cT2 cN0 HER2+ before surgery: TCbHP", NEOADJUVANT_CT2, "shown", not_shown=("A6", "M1")),
    Scenario("N3", "cT2 cN0 HER2+ before surgery: THP", NEOADJUVANT_CT2, "shown"),
    Scenario("N4", "cT2 cN0 HER2+ before surgery: AC/EC then THP", NEOADJUVANT_CT2, "shown"),
    Scenario("N5", "cT2 cN0 HER2+ before surgery: pyrotinib + H + docetaxel", NEOADJUVANT_CT2, "shown"),
    Scenario("N6", "cT1b cN0 HER2+: operate first", SMALL_NODE_NEGATIVE, "shown", not_shown=("N1", "N2", "N3")),
    Scenario("N7", "cT1c cN0 HER2+: surgery then APT, or neoadjuvant TH(P)", CT1C_N0, "shown",
             not_shown=("N1", "N2", "N6")),
    # -- §2.3 adjuvant -----------------------------------------------------------------------------------------------
    Scenario("A1", "pCR after neoadjuvant HP, initially cN0", PCR_CN0, "shown", not_shown=("A2", "A3")),
    Scenario("A2", "pCR after neoadjuvant HP, initially cN1", PCR_CN1, "shown", not_shown=("A1", "A3")),
    Scenario("A3", "ypT2 ypN1 residual disease: T-DM1", RESIDUAL, "shown", not_shown=("A1", "A2")),
    Scenario("A4", "ypT2 ypN1 residual disease: T-DXd if approved", RESIDUAL, "shown"),
    Scenario("A5", "residual disease after neoadjuvant HP: HP or pyrotinib", RESIDUAL, "shown"),
    Scenario("A6", "upfront surgery, pT2 pN1", UPFRONT_NODE_POSITIVE, "shown", not_shown=("A7", "A8", "A1", "A13")),
    Scenario("A7", "upfront surgery, pT1c pN0: APT", UPFRONT_PT1C_N0, "shown"),
    Scenario("A8", "upfront surgery, pT1c pN0, fit: TCbH", UPFRONT_PT1C_N0, "shown"),
    Scenario("A9", "HR+ after 1 year of adjuvant trastuzumab: neratinib", ADJUVANT_H_HR_POSITIVE, "shown"),
    Scenario("A10", "HR+ after adjuvant trastuzumab: pyrotinib", ADJUVANT_H_HR_POSITIVE, "shown"),
    Scenario("A11", "HR+ HER2+ early, before surgery: endocrine therapy", HR_POSITIVE_EARLY, "shown"),
    Scenario("A12", "pCR, trastuzumab given: 1 year in total", PCR_CN0, "shown"),
    Scenario("A13", "upfront surgery, pT2 pN0: pertuzumab a lower-level option", UPFRONT_PT2_N0, "shown",
             not_shown=("A6", "A7")),
    # -- §2.4 metastatic ---------------------------------------------------------------------------------------------
    Scenario("M1", "de novo metastatic: THP", DE_NOVO, "shown", not_shown=SECOND_LINE),
    Scenario("M2", "relapse 30 months after adjuvant H (sensitive): Py + H + T", SENSITIVE_RELAPSE, "shown",
             not_shown=SECOND_LINE),
    Scenario("M3", "de novo metastatic: T-DXd + pertuzumab", DE_NOVO, "shown"),
    Scenario("M4", "de novo metastatic: TXH / TH / NH", DE_NOVO, "shown", not_shown=THIRD_LINE),
    Scenario("M5", "on first-line HP for metastases: HP maintenance", SECOND, "shown"),
    Scenario("M6", "relapse 5 months after adjuvant H (resistant): T-DXd", RESISTANT, "shown",
             not_shown=("M1", "M2", "M3")),
    Scenario("M7", "after first-line THP: pyrotinib + capecitabine", SECOND, "shown", not_shown=("M1", *THIRD_LINE)),
    Scenario("M8", "after first-line THP: T-DM1", SECOND, "shown"),
    Scenario("M9", "after first-line THP: trastuzumab rezetecan", SECOND, "shown"),
    Scenario("M10", "after THP and T-DXd: tucatinib + H + X", THIRD, "shown", not_shown=FIRST_LINE),
    Scenario("M11", "after THP and T-DXd: neratinib + X", THIRD, "shown"),
    Scenario("M12", "after THP and T-DXd: lapatinib + X", THIRD, "shown"),
    Scenario("M13", "after THP and T-DXd: margetuximab", THIRD, "shown"),
    Scenario("M14", "after THP and T-DXd: disitamab vedotin", THIRD, "shown"),
    Scenario("M15", "after first-line THP: inetetamab + vinorelbine", SECOND, "shown"),
    Scenario("M16", "after first-line THP: continue HER2 blockade", SECOND, "shown"),
    # -- §2.5 special situations -------------------------------------------------------------------------------------
    Scenario("B1", "HER2+ with brain metastases: local therapy", BRAIN, "shown"),
    Scenario("B2", "HER2+ with brain metastases: T-DXd / Py + X / tucatinib", BRAIN, "shown"),
    Scenario("R1", "HR+ HER2+ de novo metastatic: endocrine + anti-HER2", DE_NOVO_HR_POSITIVE, "shown",
             not_shown=("R3",)),
    Scenario("R2", "HR+ HER2+ on first-line HP: ET + HP maintenance", SECOND_HR_POSITIVE, "shown"),
    Scenario("R3", "HR+ HER2+ after one metastatic line: abemaciclib + H + F", SECOND_HR_POSITIVE, "shown"),
    Scenario("L1", "HR- HER2-low metastatic after paclitaxel: T-DXd", LOW_AFTER_CHEMO, "shown", not_shown=("L2", "M1")),
    Scenario("L2", "HR+ HER2-low metastatic after letrozole, no chemo: T-DXd", LOW_AFTER_ENDOCRINE, "shown",
             not_shown=("L1",)),
    Scenario("L3", "HER2-low metastatic after paclitaxel: disitamab vedotin", LOW_AFTER_CHEMO, "shown",
             not_shown=("L2",)),
    Scenario("L4", "HER2-low early disease: caution against T-DXd", r.her2_low_early, "topic",
             not_shown=BREAST_CANCER_PLANS),
    Scenario("L5", "HER2-0: caution against HER2 ADCs", r.her2_zero, "topic", not_shown=BREAST_CANCER_PLANS),
    # -- §2.6 safety -------------------------------------------------------------------------------------------------
    Scenario("S1", "trastuzumab ordered, no LVEF on file", _no_lvef_ordering, "topic", "warning", "order-select",
             _drug("trastuzumab")),
    Scenario("S2", "on trastuzumab, LVEF 65 → 48 %", _lvef((65, 150), (48, 5)), "topic", "warning"),
    Scenario("S3", "on trastuzumab, LVEF 65 → 48 → 60 %", _lvef((65, 150), (48, 60), (60, 5)), "topic"),
    Scenario("S4", "on trastuzumab, LVEF 48 then 47 % 65 days apart", _lvef((65, 150), (48, 70), (47, 5)), "topic",
             "critical"),
    Scenario("S5", "on T-DXd, LVEF 60 → 43 %", partial(r.on_tdxd, (60, 100), (43, 5)), "topic", "warning"),
    Scenario("S6", "T-DXd ordered: ILD monitoring", _ready(SECOND), "topic", "info", "order-sign",
             _drug("trastuzumab-deruxtecan")),
    Scenario("S7", "pregnant, trastuzumab ordered", _pregnant_ordering, "topic", "critical", "order-select",
             _drug("trastuzumab")),
    Scenario("S8", "pyrotinib ordered: diarrhoea prophylaxis", _ready(SECOND), "topic", "info", "order-sign",
             _drug("pyrotinib")),
    Scenario("S9", "ILD on record, first T-DXd ordered: pre-treatment work-up", _ild_before_first_tdxd, "topic",
             "critical", "order-select", _drug("trastuzumab-deruxtecan"), not_shown=("S6",)),
    # -- §3.4–3.5 biosimilars and subcutaneous forms -----------------------------------------------------------------
    Scenario("BIO1", "Ogivri (trastuzumab-dkst) ordered", _ready(DE_NOVO), "cited", hook="order-select",
             order=_named("Ogivri (trastuzumab-dkst)", "trastuzumab")),
    Scenario("BIO2", "汉曲优 (Chinese biosimilar) ordered: NMPA 2015 guideline", _ready(DE_NOVO), "cited",
             hook="order-select", order=_named(ZERCEPAC)),
    Scenario("BIO3", "汉曲优 (Chinese biosimilar) ordered: indication extrapolation", _ready(DE_NOVO), "cited",
             hook="order-select", order=_named(ZERCEPAC)),
    Scenario("BIO4", "Kanjinti ordered: US interchangeability", _ready(DE_NOVO), "cited", hook="order-select",
             order=_named("Kanjinti"), jurisdiction="US", not_shown=("BIO2", "BIO3", "BIO5")),
    Scenario("BIO5", "Ogivri ordered: EU interchangeability", _ready(DE_NOVO), "cited", hook="order-select",
             order=_named("Ogivri"), jurisdiction="EU", not_shown=("BIO2", "BIO3", "BIO4")),
    Scenario("BIO6", "trastuzumab ordered by ingredient: record the brand", _ready(DE_NOVO), "topic",
             hook="order-select", order=_drug("trastuzumab")),
    Scenario("SC1", "Herceptin Hylecta ordered", _ready(DE_NOVO), "cited", hook="order-sign",
             order=_named("Herceptin Hylecta")),
    Scenario("SC2", "Phesgo ordered", _ready(DE_NOVO), "cited", hook="order-select", order=_named("Phesgo")),
]
# fmt: on


def _params() -> list[Any]:
    return [
        pytest.param(s, id=s.row, marks=[pytest.mark.xfail(strict=True, reason=s.xfail)] if s.xfail else [])
        for s in SCENARIOS
    ]


@pytest.mark.parametrize("scenario", _params())
def test_row_surfaces_for_a_patient_who_meets_it(
    clients: Callable[[str], TestClient], templates: dict[str, str], scenario: Scenario
) -> None:
    """The record of the row's situation (scenario.situation) makes the row appear, and its neighbours not."""
    cards = scenario.run(clients(scenario.jurisdiction), templates)
    where = f"{scenario.row} ({scenario.situation}): topics {topics(cards)}"

    if scenario.expect == "topic":
        assert card_for(cards, scenario.row)["indicator"] == scenario.indicator, where
    elif scenario.expect == "shown":
        assert scenario.row in shown_rows(cards), where
        assert all(card["indicator"] == "info" for card in cards if card["source"]["topic"]["code"] == scenario.row)
    else:
        card = card_for(cards, scenario.cited_in)
        assert scenario.row in extension(card)["rules"], where  # quoted inside the card, with its level
    assert not set(scenario.not_shown) & shown_rows(cards), where


def test_every_knowledge_row_has_exactly_one_scenario() -> None:
    """A row added to cards/*.yaml without a scenario here fails CI (and a scenario for a deleted row too)."""
    rows = [s.row for s in SCENARIOS]

    assert len(rows) == len(set(rows)), "one scenario per row"
    assert set(rows) == set(KINDS)


def test_coverage_agrees_with_the_loaded_knowledge_base(client: TestClient) -> None:
    """The ids read from the YAML are the ids the running service loaded (sources/definitions are not rows)."""
    engine = client.app.state.engine  # type: ignore[attr-defined]

    assert set(engine.knowledge.entries) == set(KINDS)


# -- what the row-specific cards carry --------------------------------------------------------------
def test_ihc_2_plus_card_offers_an_ish_order(client: TestClient, templates: dict[str, str]) -> None:
    """IHC 2+ without ISH: the T2 card offers to create a ServiceRequest for HER2 ISH (LOINC 85318-4)."""
    cards = view(client, templates, _her2(c.her2_ihc("2+"))())

    gap = next(card for card in cards if card["source"]["topic"]["code"] == "T2" and card.get("suggestions"))
    assert suggested_codes(gap) == ["85318-4"]
    assert gap["suggestions"][0]["actions"][0]["resource"]["resourceType"] == "ServiceRequest"


def test_missing_lvef_card_offers_an_echocardiogram(client: TestClient, templates: dict[str, str]) -> None:
    """Trastuzumab ordered without any LVEF: the S1 card offers an echocardiogram (SNOMED 40701008)."""
    cards = select(client, templates, r.de_novo_metastatic(), c.order("trastuzumab"))

    assert suggested_codes(card_for(cards, "S1")) == ["40701008"]


def test_overdue_lvef_on_trastuzumab_warns(client: TestClient, templates: dict[str, str]) -> None:
    """On trastuzumab, last LVEF 200 days ago (due every 90): S1 warning in patient-view."""
    cards = view(client, templates, r.on_trastuzumab((64, 200)))

    s1 = card_for(cards, "S1")
    assert s1["indicator"] == "warning" and suggested_codes(s1) == ["40701008"]


def test_preferred_neoadjuvant_regimen_leads(client: TestClient, templates: dict[str, str]) -> None:
    """cT2 cN0 HER2+ before surgery: TCbHP (N2, the consensus's preferred regimen) is the first recommendation."""
    cards = view(client, templates, NEOADJUVANT_CT2())

    recommendations = [t for t in topics(cards) if KINDS.get(t) == "recommendation"]
    assert recommendations[0] == "N2" and len(recommendations) == 3


@pytest.mark.parametrize(
    ("text", "drug", "brand"),
    [
        ("Ogivri (trastuzumab-dkst)", "trastuzumab", "Ogivri"),
        ("Kanjinti", None, "Kanjinti"),
        (ZERCEPAC, None, "Zercepac"),  # 汉曲优: English cards name its Latin brand
    ],
)
def test_biosimilar_order_names_its_product(
    client: TestClient, templates: dict[str, str], text: str, drug: str | None, brand: str
) -> None:
    """A trastuzumab biosimilar ordered by brand: the BIO6 card names the product."""
    cards = select(client, templates, [*r.de_novo_metastatic(), *checked_before_start()], order_named(text, drug))

    assert brand in card_for(cards, "BIO6")["summary"]


def test_ild_on_record_makes_tdxd_order_critical(client: TestClient, templates: dict[str, str]) -> None:
    """T-DXd ordered again for a patient who developed ILD on it: S6 critical (a first dose is S9)."""
    record = [
        *r.metastatic_after_first_line(),
        *checked_before_start(),
        c.given("trastuzumab-deruxtecan", start=ago(months=3), end=ago(days=30)),
        c.ild(),
    ]

    cards = select(client, templates, record, c.order("trastuzumab-deruxtecan"))

    assert card_for(cards, "S6")["indicator"] == "critical"
    assert "S9" not in topics(cards)


def test_pregnancy_condition_blocks_trastuzumab_in_patient_view(client: TestClient, templates: dict[str, str]) -> None:
    """On trastuzumab with an active pregnancy Condition: S7 critical without any order."""
    cards = view(client, templates, [*r.on_trastuzumab((64, 10)), pregnancy_condition()])

    assert card_for(cards, "S7")["indicator"] == "critical"


@pytest.mark.parametrize(("age", "expected"), [(38, ["info"]), (60, [])])
def test_unknown_pregnancy_status_is_asked_for_under_55(
    client: TestClient, templates: dict[str, str], age: int, expected: list[str]
) -> None:
    """Trastuzumab ordered, pregnancy status not recorded: an S7 reminder for a woman under 55 only."""
    record = [c.patient(age=age), *r.de_novo_metastatic(), c.lvef(62, when=ago(days=10))]

    cards = select(client, templates, record, c.order("trastuzumab"))

    reminders = [
        card for card in cards if "S7" in card.get("extension", {}).get("org.her2-cds.card", {}).get("rules", [])
    ]
    assert [card["indicator"] for card in reminders] == expected  # inside the order's card, which is info


def test_neratinib_order_gets_diarrhoea_prophylaxis(client: TestClient, templates: dict[str, str]) -> None:
    """Extended adjuvant neratinib ordered (HR+, after adjuvant trastuzumab): S8 info, and it fits A9."""
    record = [*r.adjuvant_trastuzumab_hr_positive(), *checked_before_start()]

    cards = select(client, templates, record, c.order("neratinib"))

    assert card_for(cards, "S8")["indicator"] == "info"
    assert card_for(cards, "A9")["indicator"] == "info"


@pytest.mark.parametrize(
    "record",
    [
        [c.breast_cancer(), c.her2_ihc("3+", when=ago(days=30)), c.her2_ihc("1+", when=ago(months=14))],
        [
            c.breast_cancer(onset=ago(months=30)),
            c.her2_ihc("3+", when=ago(months=28)),
            c.metastasis(onset=ago(days=30)),
        ],
    ],
    ids=["discordant-earlier-specimen", "metastasis-newer-than-her2"],
)
def test_retest_her2_warnings(client: TestClient, templates: dict[str, str], record: list[Resource]) -> None:
    """HER2 changed between specimens, or metastasis after the last HER2 test: a T11 warning asks to retest/review."""
    cards = view(client, templates, record)

    assert "warning" in [card["indicator"] for card in cards if card["source"]["topic"]["code"] == "T11"]
