import pytest

from cds_service.fhir import render_template


def test_context_tokens_are_replaced_and_url_encoded() -> None:
    assert render_template("Observation?patient={{context.patientId}}&code=a|b", {"patientId": "p 1&x"}) == (
        "Observation?patient=p%201%26x&code=a|b"
    )


def test_missing_context_value_is_an_error_not_an_empty_query() -> None:
    with pytest.raises(KeyError):
        render_template("Encounter/{{context.encounterId}}", {"patientId": "p1"})
