"""Stage texts as Chinese and English reports write them (issue 7, item 6)."""

import pytest

from cds_service.clinical.staging import parse_staging_text


@pytest.mark.parametrize(
    ("text", "value", "prefix"),
    [
        ("IIIA期", "IIIA", None),
        ("ⅢA期", "IIIA", None),
        ("Ⅲ A期", "IIIA", None),
        ("临床分期：IIIA期", "IIIA", "c"),
        ("病理分期: ⅡB期", "IIB", "p"),
        ("Pathologic stage: IIA", "IIA", "p"),
        ("Clinical stage IIB", "IIB", "c"),
        ("Stage IV", "IV", None),
        ("2b", "IIB", None),
    ],
)
def test_stage_group_texts(text: str, value: str, prefix: str | None) -> None:
    found = parse_staging_text(text, "stage-group")

    assert found is not None and (found.value, found.prefix) == (value, prefix)


@pytest.mark.parametrize("text", ["IIIA期 and IIB", "stage unknown", "分期待定"])
def test_texts_that_are_not_a_stage_are_not_read(text: str) -> None:
    assert parse_staging_text(text, "stage-group") is None
