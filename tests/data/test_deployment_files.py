"""docker-compose.yml and the Dockerfile cannot run here (no Docker engine): check what can be checked."""

import json
import re

import yaml

from cds_service.config import REPO_ROOT, Settings
from cds_service.examples import to_transaction

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
JENNY = REPO_ROOT / "examples" / "fhir" / "mcode-ig-stu4" / "Bundle-mcode-patient-bundle-jenny-m.json"


def test_hapi_image_is_pinned_and_every_port_is_published_on_loopback_only() -> None:
    services = COMPOSE["services"]
    assert re.fullmatch(r"hapiproject/hapi:v\d+\.\d+\.\d+(-\d+)?", services["hapi"]["image"])
    for service in services.values():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), port


def test_compose_environment_names_real_settings() -> None:
    fields = {f"HER2_CDS_{name.upper()}" for name in Settings.model_fields}
    for service in COMPOSE["services"].values():
        for name in service.get("environment", {}):
            if name.startswith("HER2_CDS_"):
                assert name in fields, name
    Settings.model_validate(
        {k.removeprefix("HER2_CDS_").lower(): v for k, v in COMPOSE["services"]["cds"]["environment"].items()}
    )


def test_loader_paths_exist_in_the_image() -> None:
    copied = dict(re.findall(r"^COPY (\S+) \./(\S+)$", DOCKERFILE, flags=re.M))
    assert {"cds_service", "mappings", "cards", "examples"} <= set(copied)
    for argument in COMPOSE["services"]["loader"]["command"]:
        if argument.startswith("/app/"):
            assert (REPO_ROOT / argument.removeprefix("/app/")).exists(), argument


def test_compose_files_named_in_the_environment_exist_in_the_image() -> None:
    for path in COMPOSE["services"]["cds"]["environment"]["HER2_CDS_CONCEPT_MAPS"].split(","):
        assert (REPO_ROOT / path.removeprefix("/app/")).exists(), path
    mounted = {v.split(":")[1] for v in COMPOSE["services"]["cds"]["volumes"] if v.startswith("./")}
    assert mounted == {"/app/cards", "/app/mappings"}


def test_image_points_the_service_at_its_data_folders() -> None:
    assert "HER2_CDS_MAPPINGS_DIR=/app/mappings" in DOCKERFILE
    assert "HER2_CDS_CARDS_DIR=/app/cards" in DOCKERFILE
    assert 'CMD ["her2-cds", "serve"' in DOCKERFILE


def test_hapi_accepts_the_examples_dangling_references() -> None:
    """The mCODE bundles reference resources they do not contain; HAPI's default would reject them."""
    transaction, _ = to_transaction(json.loads(JENNY.read_text(encoding="utf-8")))
    loaded = {entry["request"]["url"] for entry in transaction["entry"]}
    references = set(re.findall(r'"reference": "([A-Za-z]+/[^"]+)"', json.dumps(transaction)))

    assert references - loaded  # e.g. BodyStructure/jenny-m-chest-wall-treatment-volume
    assert COMPOSE["services"]["hapi"]["environment"]["hapi.fhir.enforce_referential_integrity_on_write"] == "false"
