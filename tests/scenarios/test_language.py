"""English and Simplified Chinese cards: same findings, other words; ?lang= beats Accept-Language."""

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.utils import clinical as c

from . import records as r
from .helpers import Card, Resource, checked_before_start, has_chinese, select, shown_rows, view

Call = Callable[..., list[Card]]


def _patient_view(record: Callable[[], list[Resource]]) -> Callable[[TestClient, dict[str, str]], Call]:
    def bind(client: TestClient, templates: dict[str, str]) -> Call:
        resources = record()
        return lambda **how: view(client, templates, resources, **how)

    return bind


def _order(record: Callable[[], list[Resource]], drug: str) -> Callable[[TestClient, dict[str, str]], Call]:
    def bind(client: TestClient, templates: dict[str, str]) -> Call:
        resources, order = [*record(), *checked_before_start()], c.order(drug)
        return lambda **how: select(client, templates, resources, order, **how)

    return bind


SCENARIOS = {
    "brain-metastases-hr-positive": _patient_view(lambda: r.de_novo_metastatic(hr=True, site="brain")),
    "ihc-2-plus-without-ish": _patient_view(lambda: [c.breast_cancer(), c.her2_ihc("2+")]),
    "persisting-lvef-decline": _patient_view(lambda: r.on_trastuzumab((65, 150), (48, 70), (47, 5))),
    "tdxd-for-her2-low-early": _order(r.her2_low_early, "trastuzumab-deruxtecan"),
    "biosimilar-order": _order(r.de_novo_metastatic, "trastuzumab"),
}


def _outline(cards: list[Card]) -> list[tuple[str, str]]:
    return [(card["source"]["topic"]["code"], card["indicator"]) for card in cards]


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_same_findings_in_english_and_chinese(
    client: TestClient, templates: dict[str, str], scenario: Callable[[TestClient, dict[str, str]], Call]
) -> None:
    """The same record in en and zh-CN: same topics, indicators and listed rows; Chinese summaries are Chinese."""
    call = scenario(client, templates)

    english, chinese = call(lang="en"), call(lang="zh-CN")

    assert english and _outline(english) == _outline(chinese)
    assert shown_rows(english) == shown_rows(chinese)
    assert all(has_chinese(card["summary"]) for card in chinese), [card["summary"] for card in chinese]
    assert not any(has_chinese(card["summary"]) for card in english)


@pytest.mark.parametrize("header", ["zh-CN", "zh-CN,zh;q=0.9,en;q=0.8", "zh"])
def test_accept_language_header_selects_chinese(client: TestClient, templates: dict[str, str], header: str) -> None:
    """A Chinese EHR sending Accept-Language: zh-CN (no ?lang=) gets Chinese cards."""
    cards = view(client, templates, r.de_novo_metastatic(), headers={"Accept-Language": header})

    assert cards and all(has_chinese(card["summary"]) for card in cards)


def test_lang_parameter_overrides_the_header(client: TestClient, templates: dict[str, str]) -> None:
    """?lang=en wins over Accept-Language: zh-CN (and ?lang=zh-CN over an English header)."""
    record = r.de_novo_metastatic()

    english = view(client, templates, record, lang="en", headers={"Accept-Language": "zh-CN"})
    chinese = view(client, templates, record, lang="zh-CN", headers={"Accept-Language": "en-US"})

    assert english and not any(has_chinese(card["summary"]) for card in english)
    assert chinese and all(has_chinese(card["summary"]) for card in chinese)


def test_default_language_is_english(client: TestClient, templates: dict[str, str]) -> None:
    """No ?lang= and no Accept-Language: English cards."""
    cards = view(client, templates, r.de_novo_metastatic())

    assert cards and not any(has_chinese(card["summary"]) for card in cards)


def test_chinese_detail_lists_the_further_options_in_chinese(client: TestClient, templates: dict[str, str]) -> None:
    """zh-CN: the rows listed under the further-options heading are the same ids, with Chinese titles."""
    cards = view(client, templates, r.de_novo_metastatic(hr=True, site="brain"), lang="zh-CN")

    assert {"B1", "B2", "R1"} <= shown_rows(cards)
    assert "该患者同样适用的其他推荐" in "".join(card.get("detail", "") for card in cards)
