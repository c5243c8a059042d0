"""Private Network Access: an https page (the CDS Hooks Sandbox) calling the service on loopback."""

import pytest
from fastapi.testclient import TestClient

from cds_service.app import create_app
from cds_service.config import Settings

SANDBOX = "https://sandbox.cds-hooks.org"


def preflight(client: TestClient, origin: str, *, private_network: bool = True) -> dict[str, str]:
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    if private_network:
        headers["Access-Control-Request-Private-Network"] = "true"
    response = client.options("/zh-CN/cds-services/her2-patient-view", headers=headers)
    return dict(response.headers) | {"status": str(response.status_code)}


@pytest.mark.parametrize("origins", [["*"], [SANDBOX]])
def test_a_preflight_asking_for_the_private_network_is_allowed(settings: Settings, origins: list[str]) -> None:
    with TestClient(create_app(settings.model_copy(update={"cors_origins": origins}))) as client:
        headers = preflight(client, SANDBOX)
    assert headers["status"] == "200"
    assert headers["access-control-allow-private-network"] == "true"
    assert headers["access-control-allow-origin"] in ("*", SANDBOX)
    assert "POST" in headers["access-control-allow-methods"]


def test_a_preflight_that_does_not_ask_gets_no_private_network_header(client: TestClient) -> None:
    headers = preflight(client, SANDBOX, private_network=False)
    assert headers["status"] == "200"
    assert "access-control-allow-private-network" not in headers


def test_an_origin_outside_the_configured_ones_is_refused(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"cors_origins": [SANDBOX]}))) as client:
        headers = preflight(client, "https://elsewhere.example.org")
    assert headers["status"] == "400"
    assert "access-control-allow-origin" not in headers  # the browser blocks the call
