"""The card models refuse what the spec forbids, so no handler can emit a non-conforming card."""

from typing import Any

import pytest
from pydantic import ValidationError

from cds_service.hooks.response import Action, Card, HookResponse, Link, Source, Suggestion, dump

SOURCE = Source(label="test")


def card(**fields: Any) -> Card:
    return Card(**{"summary": "s", "indicator": "info", "source": SOURCE, **fields})


@pytest.mark.parametrize(
    "fields",
    [
        {"summary": "x" * 140},
        {"summary": ""},
        {"indicator": "hard-stop"},
        {"suggestions": [Suggestion(label="a")]},
        {"selectionBehavior": "any"},
        {"suggestions": [], "selectionBehavior": "any"},
        {"links": []},
        {"overrideReasons": [{"system": "s", "code": "c"}]},
        {
            "suggestions": [Suggestion(label="a", isRecommended=True), Suggestion(label="b", isRecommended=True)],
            "selectionBehavior": "at-most-one",
        },
    ],
    ids=[
        "summary-140",
        "summary-empty",
        "indicator",
        "suggestions-without-behavior",
        "behavior-without-suggestions",
        "empty-suggestions",
        "empty-links",
        "override-without-display",
        "two-recommended-at-most-one",
    ],
)
def test_card_rules(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        card(**fields)


def test_summary_of_139_characters_is_accepted() -> None:
    assert len(card(summary="x" * 139).summary) == 139


@pytest.mark.parametrize(
    "fields",
    [
        {"type": "create", "description": "d"},
        {"type": "update", "description": "d", "resource": {"id": "no-type"}},
        {"type": "delete", "description": "d", "resource": {"resourceType": "MedicationRequest"}},
        {"type": "delete", "description": "d", "resourceId": "not a reference"},
        {"type": "create", "description": "", "resource": {"resourceType": "ServiceRequest"}},
    ],
    ids=["create-without-resource", "update-without-type", "delete-with-resource", "delete-bad-id", "no-description"],
)
def test_action_rules(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Action(**fields)


def test_links() -> None:
    with pytest.raises(ValidationError):
        Link(label="l", url="https://example.org", type="absolute", appContext="x")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Link(label="l", url="not-a-url", type="absolute")  # type: ignore[arg-type]
    assert Link(label="l", url="https://app.example.org/launch", type="smart", appContext="x").appContext == "x"  # type: ignore[arg-type]


def test_wire_json_omits_unset_optionals_and_gives_every_card_and_suggestion_a_uuid() -> None:
    response = HookResponse(
        cards=[card(suggestions=[Suggestion(label="a"), Suggestion(label="b")], selectionBehavior="any"), card()]
    )

    body = dump(response)

    assert set(body) == {"cards"}
    assert set(body["cards"][1]) == {"uuid", "summary", "indicator", "source"}
    uuids = [c["uuid"] for c in body["cards"]] + [s["uuid"] for s in body["cards"][0]["suggestions"]]
    assert len(set(uuids)) == 4
