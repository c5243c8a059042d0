"""Issue 7 item 2: breast cancer first. No treatment recommendation (no regimen card, no order "fits")
without an invasive breast-cancer diagnosis; HER2 in another primary gets one informational card; DCIS
alone gets no anti-HER2 treatment card; benign breast diagnoses stay silent."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.utils import clinical as c

from . import records as r
from .helpers import (
    RECOMMENDATIONS,
    Card,
    Resource,
    card_for,
    checked_before_start,
    recommendation_rows,
    select,
    sign,
    topics,
    view,
)

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10 = "http://hl7.org/fhir/sid/icd-10"

OTHER_PRIMARIES = [
    ("gastric (SNOMED)", c.SNOMED, "363349007", "Malignant tumor of stomach"),
    ("gastro-oesophageal junction (ICD-10-CM C16.0)", ICD10CM, "C16.0", "Malignant neoplasm of cardia"),
    ("colorectal (SNOMED)", c.SNOMED, "363406005", "Malignant tumor of colon"),
    ("rectum (WHO ICD-10 C20)", ICD10, "C20", "Malignant neoplasm of rectum"),
    ("endometrial (ICD-10-CM C54.1)", ICD10CM, "C54.1", "Malignant neoplasm of endometrium"),
    ("bladder (ICD-10-CM C67.9)", ICD10CM, "C67.9", "Malignant neoplasm of bladder, unspecified"),
    ("lung (SNOMED)", c.SNOMED, "363358000", "Malignant tumor of lung"),
    ("biliary (ICD-10-CM C24.0)", ICD10CM, "C24.0", "Malignant neoplasm of extrahepatic bile duct"),
]
DCIS = [
    ("SNOMED 109889007", c.SNOMED, "109889007", "Ductal carcinoma in situ of breast"),
    ("ICD-10-CM D05.12", ICD10CM, "D05.12", "Intraductal carcinoma in situ of left breast"),
]
BENIGN = [
    ("fibroadenoma (SNOMED)", c.SNOMED, "254845004", "Fibroadenoma of breast"),
    ("benign neoplasm of breast (ICD-10-CM D24.1)", ICD10CM, "D24.1", "Benign neoplasm of right breast"),
    ("mastitis (ICD-10-CM N61.0)", ICD10CM, "N61.0", "Mastitis without abscess"),
]


def _diagnosis(system: str, code: str, display: str) -> Resource:
    return c.condition(code, display, system=system, onset=c.ago(months=3))


def _her2_positive_metastatic_without(diagnosis: Resource | None) -> list[Resource]:
    """HER2 IHC 3+, liver metastasis, HR-negative: a breast-cancer chart would get first-line regimens."""
    record = [c.metastasis("liver"), c.her2_ihc("3+"), *c.hormone_receptors(False)]
    return [*([diagnosis] if diagnosis else []), *record]


def _no_treatment(cards: list[Card]) -> bool:
    return not recommendation_rows(cards) and not any(topic in RECOMMENDATIONS for topic in topics(cards))


@pytest.mark.parametrize(("name", "system", "code", "display"), OTHER_PRIMARIES, ids=[o[0] for o in OTHER_PRIMARIES])
def test_her2_in_another_primary_gets_one_informational_card(
    client: TestClient, templates: dict[str, str], name: str, system: str, code: str, display: str
) -> None:
    cards = view(client, templates, _her2_positive_metastatic_without(_diagnosis(system, code, display)))

    assert topics(cards) == ["scope-diagnosis"], name
    assert cards[0]["indicator"] == "info" and "breast" in cards[0]["summary"]


def test_control_the_same_record_with_breast_cancer_gets_regimens(
    client: TestClient, templates: dict[str, str]
) -> None:
    cards = view(client, templates, _her2_positive_metastatic_without(c.breast_cancer()))

    assert "M1" in recommendation_rows(cards) and "scope-diagnosis" not in topics(cards)


def test_another_primary_in_chinese(client: TestClient, templates: dict[str, str]) -> None:
    gastric = _diagnosis(c.SNOMED, "363349007", "Malignant tumor of stomach")

    cards = view(client, templates, _her2_positive_metastatic_without(gastric), lang="zh-CN")

    assert "乳腺癌" in card_for(cards, "scope-diagnosis")["summary"]


def test_anti_her2_order_in_gastric_cancer_gets_safety_but_no_fit(
    client: TestClient, templates: dict[str, str]
) -> None:
    """Trastuzumab for HER2+ gastric cancer in a pregnant patient: S7 critical; no breast-cancer fit."""
    gastric = _diagnosis(c.SNOMED, "363349007", "Malignant tumor of stomach")
    record = [*_her2_positive_metastatic_without(gastric), c.lvef(62, when=c.ago(days=10)), c.pregnant()]

    cards = select(client, templates, record, c.order("trastuzumab"))

    assert card_for(cards, "S7")["indicator"] == "critical"
    assert card_for(cards, "scope-diagnosis")["indicator"] == "info"
    assert _no_treatment(cards) and "order-her2-unsettled" not in topics(cards)


def test_critical_safety_on_running_therapy_still_shows_in_another_primary(
    client: TestClient, templates: dict[str, str]
) -> None:
    """A gastric-cancer patient on trastuzumab who is pregnant: the scope card, and S7 critical."""
    gastric = _diagnosis(c.SNOMED, "363349007", "Malignant tumor of stomach")
    running = c.given("trastuzumab", start=c.ago(months=2), status="active")
    record = [*_her2_positive_metastatic_without(gastric), running, c.lvef(60, when=c.ago(days=20)), c.pregnant()]

    cards = view(client, templates, record)

    assert set(topics(cards)) == {"scope-diagnosis", "S7"}
    assert card_for(cards, "S7")["indicator"] == "critical"


@pytest.mark.parametrize(("name", "system", "code", "display"), DCIS, ids=[d[0] for d in DCIS])
def test_dcis_alone_gets_no_anti_her2_treatment_card(
    client: TestClient, templates: dict[str, str], name: str, system: str, code: str, display: str
) -> None:
    record = [_diagnosis(system, code, display), c.her2_ihc("3+"), c.stage("IA"), c.tnm("cT1"), c.tnm("cN0")]

    cards = view(client, templates, record)

    assert _no_treatment(cards), name
    assert "DCIS" in card_for(cards, "scope-diagnosis")["summary"]


def test_anti_her2_order_for_dcis_alone_is_a_warning_without_fit(client: TestClient, templates: dict[str, str]) -> None:
    dcis = _diagnosis(c.SNOMED, "109889007", "Ductal carcinoma in situ of breast")
    record = [dcis, c.her2_ihc("3+"), c.stage("IA"), c.tnm("cT1"), c.tnm("cN0"), *checked_before_start()]

    cards = select(client, templates, record, c.order("trastuzumab"))

    assert card_for(cards, "scope-diagnosis")["indicator"] == "warning"
    assert _no_treatment(cards)


def test_dcis_beside_invasive_cancer_does_not_hide_the_regimens(client: TestClient, templates: dict[str, str]) -> None:
    dcis = _diagnosis(c.SNOMED, "109889007", "Ductal carcinoma in situ of breast")

    cards = view(client, templates, [*r.early_before_surgery(), dcis])

    assert recommendation_rows(cards) and "scope-diagnosis" not in topics(cards)


@pytest.mark.parametrize(("name", "system", "code", "display"), BENIGN, ids=[b[0] for b in BENIGN])
def test_benign_breast_diagnoses_stay_silent(
    client: TestClient, templates: dict[str, str], name: str, system: str, code: str, display: str
) -> None:
    record = [_diagnosis(system, code, display), c.lvef(60, when=c.ago(days=10))]

    assert view(client, templates, record) == [], name


def test_benign_diagnosis_is_not_breast_cancer_for_an_order(client: TestClient, templates: dict[str, str]) -> None:
    """A fibroadenoma chart with HER2 3+ and stage: trastuzumab is not said to fit the consensus."""
    record = [_diagnosis(*BENIGN[0][1:]), *r.early_before_surgery()[1:], *checked_before_start()]

    cards = select(client, templates, record, c.order("trastuzumab"))

    assert _no_treatment(cards) and "scope-diagnosis" in topics(cards)


# -- HER2 result, no cancer diagnosis at all --------------------------------------------------------
def _early_her2_positive_without_diagnosis() -> list[Resource]:
    return [r for r in r.early_before_surgery() if r["resourceType"] != "Condition"]


def test_her2_without_diagnosis_states_it_instead_of_recommending(
    client: TestClient, templates: dict[str, str]
) -> None:
    cards = view(client, templates, _early_her2_positive_without_diagnosis())

    assert _no_treatment(cards)
    assert "T1" in topics(cards)  # the HER2 status card stays
    assert "diagnosis" in card_for(cards, "scope-diagnosis")["summary"]


def test_control_with_the_diagnosis_the_same_record_gets_regimens(
    client: TestClient, templates: dict[str, str]
) -> None:
    assert recommendation_rows(view(client, templates, r.early_before_surgery()))


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_order_without_diagnosis_never_fits(client: TestClient, templates: dict[str, str], hook: str) -> None:
    """Pertuzumab for cT2 cN0 HER2+ fits N-rows with a diagnosis; without it, the scope card instead."""
    record: list[Any] = [*_early_her2_positive_without_diagnosis(), *checked_before_start()]
    call = select if hook == "order-select" else sign

    cards = call(client, templates, record, c.order("pertuzumab"))

    assert _no_treatment(cards), topics(cards)
    assert card_for(cards, "scope-diagnosis")["indicator"] == "info"
    with_diagnosis = call(
        client, templates, [*r.early_before_surgery(), *checked_before_start()], c.order("pertuzumab")
    )
    assert any(topic in RECOMMENDATIONS for topic in topics(with_diagnosis))  # the control fits
