"""Every condition the knowledge schema offers is checked by the engine: none is silently ignored."""

from datetime import date
from typing import Any

import pytest

from cds_service.clinical.conditions import matches
from cds_service.clinical.facts import PatientFacts
from cds_service.clinical.her2 import Her2Status, SpecimenStatus
from cds_service.clinical.staging import StagingFacts
from cds_service.clinical.therapy import TherapyFacts
from cds_service.knowledge import When

# A value for each field that an empty record (nothing known) can never satisfy.
DEMANDING: dict[str, Any] = {
    "her2": ["positive"],
    "hr": ["positive"],
    "setting": ["early"],
    "early_phase": ["before-surgery"],
    "pcr": True,
    "clinical_t": ["T2"],
    "clinical_n_positive": True,
    "clinical_n_at_least": 2,
    "post_neoadjuvant_n_positive": True,
    "pathologic_t": ["T2"],
    "pathologic_n_positive": True,
    "metastatic_line_min": 1,
    "metastatic_line_max": 9,
    "trastuzumab": ["sensitive"],
    "brain_metastases": True,
    "received_any": ["trastuzumab"],
    "received_metastatic_any": ["pertuzumab"],
    "on_any": ["pertuzumab"],
    "chemo_lines_metastatic_min": 0,
    "chemo_lines_metastatic_max": 9,
    "endocrine_lines_metastatic_min": 0,
    "age_over": 1,
    "age_at_most": 99,
    "stage_group_without_ctn": ["IIA"],
}


def empty_record() -> PatientFacts:
    return PatientFacts(
        patient_id="p1",
        today=date(2026, 11, 29),
        age=None,
        female=None,
        breast_cancer=(),
        her2_diagnosis=(),
        her2=Her2Status(SpecimenStatus("unknown", (), None, ())),
        hr=None,
        hr_basis=(),
        receptors=(),
        ki67=None,
        staging=StagingFacts(),
        therapy=TherapyFacts(),
        lvef=(),
        pregnancy=None,
        pregnancy_basis=(),
        brain_metastases=(),
        ild=(),
        lv_dysfunction=(),
        unreadable=(),
        truncated=(),
    )


def test_the_table_covers_every_field_of_the_schema() -> None:
    assert set(DEMANDING) == set(When.model_fields) - {"any_of"}


@pytest.mark.parametrize("field", sorted(DEMANDING))
def test_every_condition_is_checked_and_unknown_never_matches(field: str) -> None:
    ok, used = matches(When(**{field: DEMANDING[field]}), empty_record())

    assert not ok, field
    assert len(used) == 1, field  # it was looked at, and shown as a fact on the card
