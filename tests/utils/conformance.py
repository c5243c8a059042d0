"""The Inferno CDS Hooks server checks (davinci-crd-test-kit server suite), re-implemented.

Each check names the `cds-hooks_2.0@NN` requirement of the Inferno catalogue it enforces
(shared/external/cds-hooks/inferno-davinci-crd-test-kit/cds-hooks-only_requirements_subset.csv)."""

import re
import uuid
from typing import Any
from urllib.parse import urlsplit

__all__ = ["assert_discovery_conforms", "assert_request_conforms", "assert_response_conforms"]

_TOKEN = re.compile(r"\{\{(.*?)\}\}")
USER_TOKENS = {"userPractitionerId", "userPractitionerRoleId", "userPatientId", "userRelatedPersonId"}
# Root-level primitive context fields marked "Prefetch Token: Yes" in the hook definitions.
CONTEXT_TOKENS = {
    "patient-view": {"userId", "patientId", "encounterId"},
    "order-select": {"userId", "patientId", "encounterId"},
    "order-sign": {"userId", "patientId", "encounterId"},
}


def _no_null_or_empty(node: Any, path: str = "$") -> None:
    """@3: JSON elements SHALL NOT be null or empty (except the cards array)."""
    if isinstance(node, dict):
        assert node, f"{path} is an empty object"
        for key, value in node.items():
            assert value is not None, f"{path}.{key} is null"
            if not (path == "$" and key == "cards"):
                _no_null_or_empty(value, f"{path}.{key}")
    elif isinstance(node, list):
        assert node, f"{path} is an empty array"
        for index, item in enumerate(node):
            _no_null_or_empty(item, f"{path}[{index}]")
    elif isinstance(node, str):
        assert node != "", f"{path} is an empty string"


def _absolute_url(value: Any) -> bool:
    parts = urlsplit(value) if isinstance(value, str) else None
    return bool(parts and parts.scheme in ("http", "https") and parts.netloc)


def assert_discovery_conforms(body: Any) -> None:
    assert isinstance(body, dict) and isinstance(body.get("services"), list)  # @6
    _no_null_or_empty(body)
    ids = set()
    for service in body["services"]:
        for field in ("hook", "description", "id"):  # @7, @9, @10
            assert isinstance(service.get(field), str) and service[field], field
        assert isinstance(service.get("title"), str)  # @8 (RECOMMENDED)
        assert (service["id"], service["hook"]) not in ids
        ids.add((service["id"], service["hook"]))
        for key, template in (service.get("prefetch") or {}).items():  # @11, @36
            assert isinstance(key, str) and isinstance(template, str)
            for token in _TOKEN.findall(template):  # @55, @56, @57, @59
                token = token.strip()
                assert token in USER_TOKENS or (
                    token.startswith("context.") and token.removeprefix("context.") in CONTEXT_TOKENS[service["hook"]]
                ), f"{service['id']}.{key}: token {token!r} is not a CDS Hooks 2.0 prefetch token"
            assert "{{" not in _TOKEN.sub("", template) and "}}" not in _TOKEN.sub("", template)


def _assert_action(action: Any) -> None:
    assert action.get("type") in ("create", "update", "delete")  # @127
    assert isinstance(action.get("description"), str)  # @128
    if action["type"] in ("create", "update"):  # @130-@132
        assert isinstance(action.get("resource"), dict) and isinstance(action["resource"].get("resourceType"), str)
    else:  # @133-@135
        assert "resource" not in action
        assert isinstance(action.get("resourceId"), str) and re.fullmatch(
            r"[A-Za-z]+/[A-Za-z0-9\-.]{1,64}", action["resourceId"]
        )


def _assert_card(card: Any) -> None:
    assert isinstance(card.get("summary"), str) and 0 < len(card["summary"]) < 140  # @83
    assert card.get("indicator") in ("info", "warning", "critical")  # @87, @88
    source = card.get("source")
    assert isinstance(source, dict) and isinstance(source.get("label"), str)  # @90, @105
    for field in ("url", "icon"):  # @107, @111
        if field in source:
            assert _absolute_url(source[field])
    if "topic" in source:  # @115, @216-@220
        assert isinstance(source["topic"].get("code"), str) and isinstance(source["topic"].get("system"), str)
    assert isinstance(card.get("uuid"), str)  # @80 (we always send it: feedback needs it)
    if "detail" in card:
        assert isinstance(card["detail"], str)  # @84, @85
    if "suggestions" in card:  # @92, @93, @95, @96, @117-@124
        assert card.get("selectionBehavior") in ("at-most-one", "any")
        for suggestion in card["suggestions"]:
            assert isinstance(suggestion.get("label"), str)
            assert isinstance(suggestion.get("uuid"), str)
            if "isRecommended" in suggestion:
                assert isinstance(suggestion["isRecommended"], bool)
            for action in suggestion.get("actions", []):
                _assert_action(action)
        if card["selectionBehavior"] == "at-most-one":  # @122
            assert sum(bool(s.get("isRecommended")) for s in card["suggestions"]) <= 1
    else:
        assert "selectionBehavior" not in card
    for reason in card.get("overrideReasons", []):  # @98, @100, @136
        for field in ("code", "system", "display"):
            assert isinstance(reason.get(field), str) and reason[field]
    for link in card.get("links", []):  # @103, @138-@147
        assert isinstance(link.get("label"), str)
        assert _absolute_url(link.get("url"))
        assert link.get("type") in ("absolute", "smart")
        if link["type"] == "absolute":
            assert "appContext" not in link
        if "autolaunchable" in link:
            assert isinstance(link["autolaunchable"], bool)


def assert_response_conforms(body: Any) -> None:
    assert isinstance(body, dict) and isinstance(body.get("cards"), list)  # @74
    _no_null_or_empty(body)  # @3
    for card in body["cards"]:
        _assert_card(card)
    for action in body.get("systemActions", []):  # @75
        _assert_action(action)
    uuids = [c["uuid"] for c in body["cards"]] + [s["uuid"] for c in body["cards"] for s in c.get("suggestions", [])]
    assert len(uuids) == len(set(uuids)), "uuids must be unique"


_USER = re.compile(r"(Practitioner|PractitionerRole|Patient|RelatedPerson)/[A-Za-z0-9\-.]{1,64}")
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


def assert_request_conforms(body: Any, service: Any) -> None:
    """A hook request as a conforming client sends it to `service` (its discovery entry), with a full prefetch."""
    assert isinstance(body, dict) and body.get("hook") == service["hook"]
    assert str(uuid.UUID(body["hookInstance"])) == body["hookInstance"]
    context = body["context"]
    assert _USER.fullmatch(context["userId"]) and _ID.fullmatch(context["patientId"])
    if service["hook"] in ("order-select", "order-sign"):
        orders = context["draftOrders"]
        assert orders["resourceType"] == "Bundle" and orders["entry"]
        ids = [f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in orders["entry"]]
        for entry in orders["entry"]:
            assert entry["resource"]["subject"] == {"reference": f"Patient/{context['patientId']}"}
        if service["hook"] == "order-select":
            assert context["selections"] and set(context["selections"]) <= set(ids)
    else:
        assert set(context) <= {"userId", "patientId", "encounterId"}
    assert set(body["prefetch"]) == set(service["prefetch"]), "a full prefetch: every key the service asks for"
    for key, value in body["prefetch"].items():
        if value is not None:  # null: the client found nothing, which 2.0 allows
            assert isinstance(value.get("resourceType"), str)
            _no_null_or_empty(value, f"$.prefetch.{key}")
    _no_null_or_empty({k: v for k, v in body.items() if k != "prefetch"})
