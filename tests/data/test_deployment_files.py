"""docker-compose.yml and the Dockerfile cannot run here (no Docker engine): check what can be checked."""

import json
import re
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient

from cds_service.app import create_app
from cds_service.config import REPO_ROOT, Settings
from cds_service.examples import to_transaction
from cds_service.security.trust import TrustedClientsFile

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


# -- scale-out: the compose profile, the load balancer, Kubernetes ----------------------------------
K8S = REPO_ROOT / "deploy" / "k8s"
NGINX = (REPO_ROOT / "deploy" / "nginx" / "nginx.conf").read_text(encoding="utf-8")
SETTINGS_VARIABLES = {f"HER2_CDS_{name.upper()}" for name in Settings.model_fields}


def _app_paths() -> set[str]:
    """The probe paths the running app answers (200, or 503 for a readiness it cannot give)."""
    with TestClient(create_app(Settings(database_url="sqlite:///:memory:"))) as client:
        return {path for path in ("/healthz", "/readyz", "/metrics") if client.get(path).status_code in (200, 503)}


def _substituted(value: str) -> str:
    """Compose's ${NAME:-default} with its default, as on a machine where NAME is unset."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def _settings_from(variables: dict[str, str]) -> Settings:
    return Settings.model_validate(
        {
            k.removeprefix("HER2_CDS_").lower(): _substituted(v)
            for k, v in variables.items()
            if k.startswith("HER2_CDS_")
        }
    )


def _k8s() -> dict[str, dict[str, Any]]:
    documents = [
        doc for path in sorted(K8S.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
    ]
    return {doc["kind"]: doc for doc in documents if doc and "kind" in doc and doc["kind"] != "Kustomization"}


def test_scale_profile_runs_two_replicas_on_postgresql_behind_a_balancer() -> None:
    services = COMPOSE["services"]
    scaled = {name for name, service in services.items() if "scale" in service.get("profiles", [])}
    assert scaled == {"postgres", "cds-replica", "lb"}
    replica = services["cds-replica"]
    assert replica["deploy"]["replicas"] >= 2
    assert "ports" not in replica  # reached only through the balancer
    url = _substituted(replica["environment"]["HER2_CDS_DATABASE_URL"])
    assert url.startswith("postgresql+psycopg://") and "@postgres:5432/" in url
    settings = _settings_from(replica["environment"])
    assert settings.fhir_server_allowlist  # replicas listen on all interfaces: never without an allowlist
    assert replica["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert re.fullmatch(r"postgres:\d+\.\d+(-alpine)?", services["postgres"]["image"])
    assert re.fullmatch(r"nginx:\d+\.\d+\.\d+(-alpine)?", services["lb"]["image"])


def test_replica_healthcheck_and_balancer_point_at_what_the_app_serves() -> None:
    paths = _app_paths()
    probe = " ".join(COMPOSE["services"]["cds-replica"]["healthcheck"]["test"])
    assert "/readyz" in probe and "/readyz" in paths
    upstream = re.search(r"upstream (\w+) \{\s*server ([\w-]+):(\d+)", NGINX)
    assert upstream is not None
    assert upstream.group(2) == "cds-replica" and upstream.group(3) == "8080"
    assert f"proxy_pass http://{upstream.group(1)};" in NGINX
    mounted = [v.split(":")[0] for v in COMPOSE["services"]["lb"]["volumes"]]
    assert mounted == ["./deploy/nginx/nginx.conf"]
    assert "listen 8080;" in NGINX and COMPOSE["services"]["lb"]["ports"] == ["127.0.0.1:8081:8080"]
    assert "location = /metrics" in NGINX  # metrics are per replica, not mixed through the balancer


def test_image_installs_the_postgresql_driver() -> None:
    """The image installs the pinned list, which holds the postgres extra's driver (tests/packaging checks it)."""
    pinned = (REPO_ROOT / "constraints.txt").read_text(encoding="utf-8")
    assert re.search(r"^psycopg==", pinned, flags=re.M) and re.search(r"^psycopg-binary==", pinned, flags=re.M)
    assert any(i.startswith("RUN pip install -r constraints.txt") for i in _instructions())
    assert "psycopg" in (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8").split("postgres = [")[1]


# -- the image: layers, health, labels, user; compose builds it once ----------------------------------------
IMAGE = "her2-cds:local"


def _instructions() -> list[str]:
    """The Dockerfile's instructions, one string each (continuation lines joined, comments dropped)."""
    joined = re.sub(
        r"\\\n\s*", " ", "\n".join(line for line in DOCKERFILE.splitlines() if not line.lstrip().startswith("#"))
    )
    return [line.strip() for line in joined.splitlines() if line.strip()]


def test_dependency_layer_is_built_from_the_pinned_list_before_any_code_is_copied() -> None:
    steps = _instructions()
    install_deps = next(i for i, step in enumerate(steps) if step.startswith("RUN pip install -r constraints.txt"))
    copies_before = [step for step in steps[:install_deps] if step.startswith(("COPY", "ADD"))]
    assert copies_before == ["COPY constraints.txt ./"]  # a code edit leaves the dependency layer cached
    code = next(i for i, step in enumerate(steps) if step.startswith("COPY cds_service"))
    install_package = next(i for i, step in enumerate(steps) if "pip install --no-deps" in step)
    assert install_deps < code < install_package
    # Nothing is resolved again after the pinned layer, and a dependency missing from the pins fails the build.
    assert "pip check" in steps[install_package]
    assert not [s for s in steps[install_deps + 1 :] if "pip install" in s and "--no-deps" not in s]


def test_image_checks_its_own_health_without_curl() -> None:
    health = next(step for step in _instructions() if step.startswith("HEALTHCHECK"))
    assert "CMD" in health and "curl" not in health and "wget" not in health
    url = re.search(r"urlopen\('(http://127\.0\.0\.1:(\d+)(/\w+))'", health)
    assert url is not None and "timeout=" in health
    assert url.group(3) == "/healthz" in _app_paths()
    command = json.loads(next(step for step in _instructions() if step.startswith("CMD ["))[4:])
    assert command[command.index("--port") + 1] == url.group(2)


def test_image_carries_oci_labels_from_build_arguments() -> None:
    from cds_service import __version__

    steps = _instructions()
    labels = dict(
        re.findall(r'(org\.opencontainers\.image\.\w+)="([^"]*)"', " ".join(s for s in steps if s.startswith("LABEL")))
    )
    keys = {"title", "description", "version", "licenses", "source", "revision"}
    assert set(labels) == {f"org.opencontainers.image.{key}" for key in keys}
    assert labels["org.opencontainers.image.version"] == "${VERSION}"
    assert labels["org.opencontainers.image.revision"] == "${REVISION}"
    assert labels["org.opencontainers.image.source"] == "${SOURCE}"
    arguments = dict(re.findall(r"^ARG (\w+)=(\S*)$", "\n".join(steps), flags=re.M))
    assert arguments["VERSION"] == __version__ and {"REVISION", "SOURCE"} <= set(arguments)
    pyproject = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'license = "{labels["org.opencontainers.image.licenses"]}"' in pyproject


def test_image_runs_as_a_user_that_is_not_root() -> None:
    users = [step.split()[1] for step in _instructions() if step.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert re.search(rf"useradd [^&]*--uid (\d+) [^&]*{users[-1]}", DOCKERFILE)


def test_compose_builds_one_image_that_every_service_of_this_project_runs() -> None:
    services = COMPOSE["services"]  # all profiles, scale included
    builders = [name for name, service in services.items() if "build" in service]
    assert builders == ["cds"] and services["cds"]["image"] == IMAGE
    assert "profiles" not in services["cds"]  # enabled in every profile, so `--profile scale up --build` builds it
    ours = {name for name, service in services.items() if service.get("image", "").startswith("her2-cds")}
    assert ours == {"cds", "loader", "cds-replica"}
    assert all(services[name]["image"] == IMAGE for name in ours)
    assert services["loader"]["healthcheck"] == {"disable": True}  # a job, not a server


def test_kubernetes_probes_scale_and_names_fit_together() -> None:
    manifests = _k8s()
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "ConfigMap", "Secret"} <= set(manifests)
    deployment, service, hpa = manifests["Deployment"], manifests["Service"], manifests["HorizontalPodAutoscaler"]
    pod = deployment["spec"]["template"]
    container = pod["spec"]["containers"][0]
    paths = _app_paths()
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz" in paths
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz" in paths
    port_names = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert container["readinessProbe"]["httpGet"]["port"] in port_names
    assert container["command"][:2] == ["her2-cds", "serve"] and container["command"][-1] == "8080"

    labels = pod["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] in port_names
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert hpa["spec"]["minReplicas"] >= 2 and deployment["spec"]["replicas"] >= 2
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True


def test_kubernetes_environment_names_real_settings_and_mounts_the_files_it_names() -> None:
    manifests = _k8s()
    config, secret = manifests["ConfigMap"]["data"], manifests["Secret"]["stringData"]
    container = manifests["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    sources = {ref.get("configMapRef", ref.get("secretRef"))["name"] for ref in container["envFrom"]}
    assert sources == {manifests["ConfigMap"]["metadata"]["name"], manifests["Secret"]["metadata"]["name"]}

    variables = {k: v for k, v in {**config, **secret}.items() if k.startswith("HER2_CDS_")}
    assert set(variables) <= SETTINGS_VARIABLES, set(variables) - SETTINGS_VARIABLES
    settings = _settings_from(variables)
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.public_base_url and settings.fhir_server_allowlist

    mount = next(m for m in container["volumeMounts"] if m["name"] == "config")["mountPath"]
    assert str(settings.trusted_clients_file).startswith(mount + "/")
    trusted = yaml.safe_load(config[Path(str(settings.trusted_clients_file)).name])
    TrustedClientsFile.model_validate(trusted)
    kustomized = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))["resources"]
    assert "secret.example.yaml" not in kustomized and all((K8S / name).exists() for name in kustomized)
