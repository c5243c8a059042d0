"""The report's conditions in plain words: every condition field has a phrase in both languages."""

from typing import Any

import pytest

from cds_service.knowledge.models import When
from cds_service.knowledge.when_text import COVERED_FIELDS, describe, sentence

# One example value per field: a field added to When without one here fails the test below, and so does
# a field without a phrase in when_text.
EXAMPLES: dict[str, Any] = {
    "her2": ["positive"],
    "hr": ["positive"],
    "setting": ["metastatic"],
    "early_phase": ["before-surgery"],
    "pcr": True,
    "clinical_t": ["T2"],
    "clinical_n_positive": True,
    "clinical_n_at_least": 2,
    "pathologic_t": ["T1c"],
    "pathologic_n_positive": False,
    "post_neoadjuvant_n_positive": True,
    "metastatic_line_min": 2,
    "metastatic_line_max": 3,
    "trastuzumab": ["resistant"],
    "brain_metastases": True,
    "received_any": ["trastuzumab"],
    "received_metastatic_any": ["pertuzumab"],
    "on_any": ["trastuzumab"],
    "chemo_lines_metastatic_min": 1,
    "chemo_lines_metastatic_max": 0,
    "endocrine_lines_metastatic_min": 1,
    "age_over": 60,
    "age_at_most": 75,
    "stage_group_without_ctn": ["IIA"],
    "any_of": [{"her2": ["low"]}, {"hr": ["negative"]}],
}


def _name(drug: str) -> str:
    return {"trastuzumab": "Trastuzumab", "pertuzumab": "Pertuzumab"}[drug]


def test_every_condition_field_has_a_phrase() -> None:
    assert set(When.model_fields) == set(EXAMPLES), "add an example (and a phrase in when_text) for a new When field"
    assert set(When.model_fields) <= COVERED_FIELDS


@pytest.mark.parametrize("field", sorted(EXAMPLES))
@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_each_field_alone_reads_as_words(field: str, language: str) -> None:
    phrases = describe(When.model_validate({field: EXAMPLES[field]}), language, _name)

    assert len(phrases) == 1 and phrases[0].strip(), field
    assert "None" not in phrases[0] and "[" not in phrases[0]  # words, not Python values


def test_a_field_without_a_phrase_is_refused_not_dropped() -> None:
    class Wider(When):
        new_condition: bool | None = None

    with pytest.raises(ValueError, match="new_condition"):
        describe(Wider(her2=["positive"], new_condition=True), "en", _name)


def test_rows_read_as_the_committee_would_say_them() -> None:
    first_line = When(her2=["positive"], setting=["metastatic"], metastatic_line_max=1, trastuzumab=["sensitive"])
    assert sentence(first_line, "en", _name) == "HER2 positive; metastatic; first line; trastuzumab-sensitive"
    assert sentence(first_line, "zh-CN", _name) == "HER2阳性；晚期（转移性）；一线；曲妥珠单抗敏感"

    later = When.model_validate(
        {"her2": ["positive"], "any_of": [{"metastatic_line_min": 2}, {"trastuzumab": ["resistant"]}]}
    )
    assert (
        sentence(later, "en", _name) == "HER2 positive; any one of: (1) second line or later; (2) trastuzumab-resistant"
    )

    assert sentence(When(age_over=17, age_at_most=75), "en", _name) == "aged 18 to 75"
    assert sentence(When(chemo_lines_metastatic_max=0), "en", _name) == "no chemotherapy for metastatic disease"
    assert (
        sentence(When(on_any=["trastuzumab", "pertuzumab"]), "en", _name)
        == "currently receiving Trastuzumab or Pertuzumab"
    )
    assert sentence(When(her2=["zero"]), "zh-CN", _name) == "HER2 IHC 0（未注明是否超低表达）"
    assert sentence(When(), "en", _name) == "no conditions"
