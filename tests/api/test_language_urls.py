"""Language by URL (/en/cds-services, /zh-CN/cds-services) for clients that cannot send headers, and the
precedence URL prefix > ?lang= > Accept-Language > HER2_CDS_LANGUAGE on real calls."""

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cds_service.app import create_app
from cds_service.config import Settings
from tests.api.test_client_auth import BASE, bearer, token, with_trusted_clients
from tests.utils import factories as f

CJK = re.compile(r"[\u4e00-\u9fff]")


def body(templates: dict[str, str]) -> dict[str, Any]:
    return f.hook_request("patient-view", prefetch=f.prefetch_for(templates, [f.patient(), f.breast_cancer()], "p1"))


def language_of(response: Any) -> str:
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    assert cards
    chinese = {bool(CJK.search(card["summary"])) for card in cards}
    assert len(chinese) == 1, "cards in two languages"
    return "zh-CN" if chinese.pop() else "en"


@pytest.mark.parametrize("prefix", ["/en", "/zh-CN", "/zh-cn"])
def test_discovery_under_a_prefix_lists_the_same_services(client: TestClient, prefix: str) -> None:
    response = client.get(f"{prefix}/cds-services")
    assert response.status_code == 200
    assert response.json() == client.get("/cds-services").json()


@pytest.mark.parametrize("path", ["/fr/cds-services", "/zh/cds-services", "/zh-TW/cds-services/her2-patient-view"])
def test_other_prefixes_are_not_found(client: TestClient, path: str) -> None:
    response = client.request("POST" if path.count("/") > 2 else "GET", path, json={})
    assert response.status_code == 404
    assert response.json()["issue"][0]["code"] == "not-found"


def test_the_url_prefix_wins_over_query_and_header(client: TestClient, templates: dict[str, str]) -> None:
    response = client.post(
        "/zh-CN/cds-services/her2-patient-view?lang=en", json=body(templates), headers={"Accept-Language": "en"}
    )
    assert language_of(response) == "zh-CN"


def test_en_prefix_wins_over_a_chinese_default(settings: Settings, templates: dict[str, str]) -> None:
    with TestClient(create_app(settings.model_copy(update={"language": "zh-CN"}))) as client:
        assert language_of(client.post("/cds-services/her2-patient-view", json=body(templates))) == "zh-CN"
        response = client.post(
            "/en/cds-services/her2-patient-view", json=body(templates), headers={"Accept-Language": "zh-CN"}
        )
        assert language_of(response) == "en"


@pytest.mark.parametrize(
    ("query", "header", "expected"),
    [
        ("?lang=zh-CN", "en", "zh-CN"),  # ?lang= wins over the header
        ("", "en;q=0.3, zh-CN;q=0.9", "zh-CN"),
        ("", "zh;q=0, *", "en"),
        ("", "zh-TW", "zh-CN"),
        ("", "", "en"),  # the default
    ],
)
def test_query_then_header_then_default(
    client: TestClient, templates: dict[str, str], query: str, header: str, expected: str
) -> None:
    response = client.post(
        f"/cds-services/her2-patient-view{query}", json=body(templates), headers={"Accept-Language": header}
    )
    assert language_of(response) == expected


@pytest.mark.parametrize(
    "header", ["zh-CN;q=abc", ";;;", "q=0.5", "zh-CN;q=1;q", "x" * 8000, ",".join(["zh;q=0.1"] * 2000)]
)
def test_malformed_accept_language_never_fails_a_call(
    client: TestClient, templates: dict[str, str], header: str
) -> None:
    response = client.post("/cds-services/her2-patient-view", json=body(templates), headers={"Accept-Language": header})
    assert language_of(response) in ("en", "zh-CN")


def test_order_hooks_and_feedback_under_a_prefix(client: TestClient, templates: dict[str, str]) -> None:
    order = f.medication_request("m1")
    sign = f.hook_request(
        "order-sign",
        prefetch=f.prefetch_for(templates, [f.patient(), f.breast_cancer()], "p1"),
        draftOrders=f.draft_orders(order),
    )
    answer = client.post("/zh-CN/cds-services/her2-order-sign", json=sign)
    assert language_of(answer) == "zh-CN"
    feedback = {
        "feedback": [
            {
                "card": answer.json()["cards"][0]["uuid"],
                "outcome": "overridden",
                "overrideReason": {"userComment": "已与患者讨论"},
                "outcomeTimestamp": "2026-11-29T10:00:00Z",
            }
        ]
    }
    response = client.post("/zh-CN/cds-services/her2-order-sign/feedback", json=feedback)
    assert response.status_code == 200 and response.json() == {"stored": 1}


def test_client_jwt_audience_is_the_prefixed_url(settings: Settings, tmp_path: Path) -> None:
    with TestClient(create_app(with_trusted_clients(settings, tmp_path))) as client:
        assert client.get("/zh-CN/cds-services", headers=bearer(token(f"{BASE}/zh-CN/cds-services"))).status_code == 200
        # A token for the plain URL is not a token for the prefixed one.
        assert client.get("/zh-CN/cds-services", headers=bearer(token(f"{BASE}/cds-services"))).status_code == 401
