"""Issue 7, item 6: the setting comes from whatever staging the chart has, and a patient who cannot be
placed gets a card that names the missing fact and what depends on it."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.utils import clinical as c

from . import records as r
from .helpers import Resource, card_for, has_chinese, recommendation_rows, topics, view

ago = c.ago
NEOADJUVANT = {"N1", "N2", "N3", "N4", "N5"}


def _her2_positive(*staging: Resource, hr: bool = False) -> list[Resource]:
    return [*r.her2_positive(), *staging, *c.hormone_receptors(hr)]


def _stage_text(text: str, *, pathologic: bool = False) -> Resource:
    """A stage-group Observation whose value is the report's own text (Chinese or English)."""
    code = "21902-2" if pathologic else "21908-9"
    return c.observation(code, {"valueString": text}, when=ago(months=2))


def _condition_with_stage(text: str) -> Resource:
    condition = c.breast_cancer()
    condition["stage"] = [{"summary": {"text": text}}]
    return condition


def test_pathologic_tnm_alone_places_the_patient_after_upfront_surgery(
    client: TestClient, templates: dict[str, str]
) -> None:
    """pT2 pN1 with cM0 and no stage group: early disease after upfront surgery, node-positive (A6)."""
    cards = view(client, templates, _her2_positive(c.tnm("pT2"), c.tnm("pN1"), c.tnm("cM0")))

    assert "A6" in recommendation_rows(cards)
    assert "setting-unknown" not in topics(cards)


def test_pathologic_t1c_n0_alone_gets_apt(client: TestClient, templates: dict[str, str]) -> None:
    cards = view(client, templates, _her2_positive(c.tnm("pT1c", when=ago(days=20)), c.tnm("pN0", when=ago(days=20))))

    assert {"A7", "A8"} <= recommendation_rows(cards) and "A6" not in recommendation_rows(cards)


@pytest.mark.parametrize("group", ["IIA", "IIB", "IIIA", "IIIC"])
def test_stage_group_alone_of_iia_or_higher_is_ct2_or_cn_positive(
    client: TestClient, templates: dict[str, str], group: str
) -> None:
    """No cT/cN on record: IIA–IIIC imply cT≥2 or cN+, so the neoadjuvant rows apply."""
    cards = view(client, templates, _her2_positive(c.stage(group)))

    assert {"N1", "N2"} <= recommendation_rows(cards)
    assert "setting-unknown" not in topics(cards)


def test_stage_group_ia_alone_asks_for_ct_and_cn(client: TestClient, templates: dict[str, str]) -> None:
    """IA says neither cT≥2 nor cN+: no neoadjuvant row, and the card names cT/cN and why they matter."""
    cards = view(client, templates, _her2_positive(c.stage("IA")))

    assert not NEOADJUVANT & recommendation_rows(cards)
    card = card_for(cards, "setting-unknown")
    assert "Clinical T" in card["summary"] and "neoadjuvant" in card["summary"]


def test_recorded_ct1_cn0_wins_over_the_stage_group(client: TestClient, templates: dict[str, str]) -> None:
    """cT/cN on record say more than the group: a stage IIA written beside cT1b cN0 does not open N1."""
    cards = view(client, templates, r.early_before_surgery("cT1b", "cN0", stage="IIA"))

    assert "N1" not in recommendation_rows(cards) and "N6" in recommendation_rows(cards)


@pytest.mark.parametrize(
    "staging",
    [
        [_stage_text("IIIA期")],
        [_stage_text("临床分期：ⅢA期")],
        [_stage_text("Ⅲ A期")],
    ],
    ids=["IIIA期", "临床分期：ⅢA期", "Ⅲ A期"],
)
def test_chinese_stage_text_places_the_patient(
    client: TestClient, templates: dict[str, str], staging: list[Resource]
) -> None:
    cards = view(client, templates, _her2_positive(*staging))

    assert "N2" in recommendation_rows(cards)
    assert "setting-unknown" not in topics(cards)


def test_chinese_stage_text_on_the_condition(client: TestClient, templates: dict[str, str]) -> None:
    record = [_condition_with_stage("IIB期"), c.her2_ihc("3+"), *c.hormone_receptors(False)]

    assert "N2" in recommendation_rows(view(client, templates, record))


def test_yp_categories_alone_place_the_patient_after_neoadjuvant_therapy(
    client: TestClient, templates: dict[str, str]
) -> None:
    """ypT2 ypN1 with neoadjuvant HP given, no clinical stage on record: residual disease (A3)."""
    record = _her2_positive(
        c.tnm("ypT2", when=ago(days=20)),
        c.tnm("ypN1", when=ago(days=20)),
        c.given("trastuzumab", start=ago(months=7), end=ago(months=3)),
        c.given("docetaxel", start=ago(months=7), end=ago(months=3)),
    )

    cards = view(client, templates, record)

    assert "A3" in recommendation_rows(cards)
    assert "setting-unknown" not in topics(cards)


def test_pathologic_stage_group_alone_asks_for_pt_and_pn(client: TestClient, templates: dict[str, str]) -> None:
    """A pathological stage group alone: after upfront surgery, but pN decides A6 vs A7/A8."""
    cards = view(client, templates, _her2_positive(c.stage("IIB", pathologic=True)))

    card = card_for(cards, "setting-unknown")
    assert "Pathological N" in card["summary"] and "adjuvant" in card["summary"]


@pytest.mark.parametrize(
    ("staging", "missing"),
    [([], "cT/cN or the stage group"), ([c.tnm("cT2")], "Clinical N"), ([c.tnm("cN0")], "Clinical T")],
    ids=["nothing", "cT only", "cN only"],
)
def test_a_patient_who_cannot_be_placed_is_told_what_is_missing(
    client: TestClient, templates: dict[str, str], staging: list[Resource], missing: str
) -> None:
    cards = view(client, templates, _her2_positive(*staging))

    card = card_for(cards, "setting-unknown")
    assert missing in card["summary"] and "neoadjuvant" in card["summary"]
    assert not recommendation_rows(cards)


def test_locally_advanced_ct4_alone_is_placed(client: TestClient, templates: dict[str, str]) -> None:
    """cT4 says locally advanced whatever cN is: the neoadjuvant rows apply."""
    cards = view(client, templates, _her2_positive(c.tnm("cT4")))

    assert "N2" in recommendation_rows(cards)


def test_the_missing_stage_card_is_chinese_in_chinese(client: TestClient, templates: dict[str, str]) -> None:
    cards: list[dict[str, Any]] = view(client, templates, _her2_positive(), lang="zh-CN")

    card = card_for(cards, "setting-unknown")
    assert has_chinese(card["summary"]) and "cT/cN" in card["summary"]
