"""Issue 7, item 11: report texts pathologists write are read (or reported, never guessed), and the knowledge
corrections show for the patients they concern."""

import pytest
from fastapi.testclient import TestClient

from tests.utils import clinical as c

from . import records as r
from .helpers import CARDS_DIR, card_for, recommendation_rows, topics, view

ago = c.ago


@pytest.mark.parametrize(
    ("text", "topic", "words"),
    [
        ("0 (ultralow): faint, incomplete membrane staining in ≤10 %", "T9", "ultralow"),
        ("faint incomplete membrane staining in ≤10% of tumour cells", "T9", "ultralow"),
        ("(3+)阳性", "T1", "HER2-positive"),
        ("HER2（+++）", "T1", "HER2-positive"),
    ],
)
def test_report_texts_are_read(
    client: TestClient, templates: dict[str, str], text: str, topic: str, words: str
) -> None:
    cards = view(client, templates, [c.breast_cancer(), c.her2_ihc_text(text)])

    assert words in card_for(cards, topic)["summary"]
    assert "her2-not-understood" not in topics(cards)


def test_ihc_0_plus_is_ihc_0_and_asks_about_ultralow(client: TestClient, templates: dict[str, str]) -> None:
    """ "IHC 0+" is IHC 0, silent on faint staining: HR+ metastatic disease gets the ultralow question (T9)."""
    record = [
        c.breast_cancer(onset=ago(months=4)),
        c.metastasis("liver", onset=ago(months=3)),
        c.her2_ihc_text("IHC 0+", when=ago(months=2)),
        *c.hormone_receptors(True),
    ]

    cards = view(client, templates, record)

    assert "her2-not-understood" not in topics(cards)
    assert "ultralow" in card_for(cards, "T9")["summary"]


@pytest.mark.parametrize("text", ["HER2 weakly stained, see comment", "HER2（+）", "0 (ultralow): faint, 3+ focally"])
def test_text_it_cannot_parse_is_reported_not_guessed(client: TestClient, templates: dict[str, str], text: str) -> None:
    cards = view(client, templates, [c.breast_cancer(), c.her2_ihc_text(text)])

    assert card_for(cards, "her2-not-understood")["indicator"] == "warning"
    assert not recommendation_rows(cards)


# -- knowledge corrections ---------------------------------------------------------------------------
def test_katherine_is_cited_to_its_publication(client: TestClient, templates: dict[str, str]) -> None:
    cards = view(client, templates, r.after_neoadjuvant("ypT2", "ypN1"))

    detail = card_for(cards, "A3")["detail"]
    assert "10.1056/NEJMoa1814017" in detail or "KATHERINE NEJM 2019" in detail
    assert "droracle" not in detail.lower() and "Dr. Oracle" not in detail


def test_no_row_cites_a_question_and_answer_site() -> None:
    assert "droracle" not in (CARDS_DIR / "sources.yaml").read_text(encoding="utf-8").lower()


def test_destiny_breast06_eligibility_is_on_the_l2_card(client: TestClient, templates: dict[str, str]) -> None:
    cards = view(client, templates, r.her2_low_metastatic(hr=True, endocrine=True))

    detail = card_for(cards, "L2")["detail"]
    assert "CDK4/6" in detail and "24 months" in detail


def test_rc48_for_her2_low_only_after_chemotherapy(client: TestClient, templates: dict[str, str]) -> None:
    naive = recommendation_rows(view(client, templates, r.her2_low_metastatic(hr=False)))
    treated = recommendation_rows(view(client, templates, r.her2_low_metastatic(hr=False, chemo=True)))

    assert "L3" not in naive and "L3" in treated


def test_m4_names_its_trials(client: TestClient, templates: dict[str, str]) -> None:
    """M4 is listed for de novo metastatic disease; its card text (when shown) names M77001 (TH) and CHAT (TXH)."""
    text = (CARDS_DIR / "metastatic.yaml").read_text(encoding="utf-8")
    m4 = text[text.index("id: M4") : text.index("id: M5")]

    assert "M77001 (TH), CHAT (TXH)" in m4 and "trials: [M77001, CHAT]" in m4


def test_microinvasion_is_not_an_apt_patient(client: TestClient, templates: dict[str, str]) -> None:
    cards = view(client, templates, r.after_upfront_surgery("pT1mi", "pN0", stage="IA"))

    assert "A7" not in recommendation_rows(cards)
    assert "MDT" in card_for(cards, "plan-unmatched")["summary"]  # still a next step: no silence


def test_ultralow_t_dxd_is_after_endocrine_therapy_for_metastatic_disease(
    client: TestClient, templates: dict[str, str]
) -> None:
    cards = view(client, templates, [c.breast_cancer(), c.her2_ihc_text("HER2-ultralow")])

    assert "after endocrine therapy for metastatic disease" in card_for(cards, "T9")["detail"]
