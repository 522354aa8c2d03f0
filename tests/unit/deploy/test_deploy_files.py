"""deploy/: the compose file parses and names only files that exist, the image and unit are sound."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ictbot.app.settings import Settings
from tests.conftest import REPO_ROOT

yaml = pytest.importorskip("yaml", reason="PyYAML parses the compose and provisioning files")

DEPLOY = REPO_ROOT / "deploy"
COMPOSE_ONLY_VARIABLES = {"POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD"}


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _settings_variables() -> set[str]:
    names: set[str] = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        choices = getattr(alias, "choices", None)
        names.update(str(choice) for choice in choices) if choices else names.add(str(alias))
    return names


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = _load(DEPLOY / "docker-compose.yml")
    assert isinstance(document, dict)
    return document


def test_compose_runs_the_bot_with_postgres_prometheus_and_grafana(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"bot", "postgres", "prometheus", "grafana"}
    bot = services["bot"]
    assert bot["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    for service in services.values():  # nothing published beyond this machine: TLS goes through the proxy
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), port


def test_compose_names_only_files_that_exist(compose: dict[str, Any]) -> None:
    named: list[Path] = []
    for service in compose["services"].values():
        build = service.get("build")
        if build:
            context = (DEPLOY / build["context"]).resolve()
            named += [context, context / build["dockerfile"]]
        for volume in service.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if source.startswith((".", "/")):
                named.append((DEPLOY / source).resolve())
            else:
                assert source in compose["volumes"], f"undeclared named volume {source}"
        for env_file in service.get("env_file", []) if isinstance(service.get("env_file"), list) else []:
            named.append(DEPLOY / env_file)
        for config in service.get("configs", []):
            assert config["source"] in compose["configs"], config
    assert named, "the compose file names no file"
    missing = [str(path) for path in named if not path.exists()]
    assert not missing, f"compose names files that do not exist: {missing}"


def test_compose_passes_only_variables_the_bot_knows(compose: dict[str, Any]) -> None:
    known = _settings_variables()
    unknown = set(compose["services"]["bot"]["environment"]) - known
    assert not unknown, f"the bot ignores {sorted(unknown)}"
    # the two tokens are required, so the bot (API_HOST=0.0.0.0 in the image) never refuses to start
    environment = compose["services"]["bot"]["environment"]
    assert ":?" in environment["ICTBOT_API_TOKEN"] and ":?" in environment["ICTBOT_API_READ_TOKEN"]


def test_the_env_example_names_only_real_variables() -> None:
    text = (DEPLOY / "ictbot.env.example").read_text()
    names = set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", text, re.M))
    assert {"TRADING_MODE", "ICTBOT_API_TOKEN", "BINANCE_API_KEY"} <= names
    assert not names - _settings_variables() - COMPOSE_ONLY_VARIABLES


def test_grafana_provisions_the_dashboard_from_prometheus(compose: dict[str, Any]) -> None:
    grafana = compose["services"]["grafana"]
    mounts = dict(str(v).split(":")[:2] for v in grafana["volumes"] if str(v).startswith("."))
    dashboard_target = mounts["./grafana-dashboard.json"]
    providers = _load(DEPLOY / "grafana/provisioning/dashboards/ictbot.yml")["providers"]
    assert Path(dashboard_target).parent == Path(providers[0]["options"]["path"])
    datasource = _load(DEPLOY / "grafana/provisioning/datasources/prometheus.yml")["datasources"][0]
    assert datasource["type"] == "prometheus" and datasource["url"] == "http://prometheus:9090"
    assert "prometheus" in compose["services"]


def test_prometheus_scrapes_the_bots_metrics_route(compose: dict[str, Any]) -> None:
    from ictbot.api.routes import system

    scrape = _load(DEPLOY / "prometheus.yml")["scrape_configs"][0]
    assert scrape["static_configs"][0]["targets"] == ["bot:8000"]
    assert scrape["metrics_path"] in {getattr(route, "path", None) for route in system.router.routes}
    token_file = scrape["authorization"]["credentials_file"]
    mounted = {c["target"] for c in compose["services"]["prometheus"]["configs"]}
    assert token_file in mounted


def test_the_image_is_slim_non_root_and_health_checked() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", dockerfile, re.M)
    assert stages and all(image.endswith("-slim") for image in stages)
    user = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert user and not user[-1].startswith(("root", "0"))
    healthcheck = re.search(r"^HEALTHCHECK .*?CMD (.+?)$", dockerfile, re.M | re.S)
    assert healthcheck is not None and "/health" in healthcheck.group(1)
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, re.M):
        for path in source.split():
            assert (REPO_ROOT / path).exists(), f"COPY {path}: not in the repository"
    assert re.search(r"^EXPOSE 8000$", dockerfile, re.M) and "API_PORT=8000" in dockerfile


def test_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here")
    unit_text = (DEPLOY / "ictbot.service").read_text()
    assert re.search(r"^Restart=on-failure$", unit_text, re.M) and "EnvironmentFile=/etc/ictbot/ictbot.env" in unit_text
    assert re.search(r"^NoNewPrivileges=yes$", unit_text, re.M) and re.search(r"^User=ictbot$", unit_text, re.M)
    # verify checks that ExecStart's program exists: point it at one that does on this machine
    unit = tmp_path / "ictbot.service"
    unit.write_text(unit_text.replace("/opt/ictbot/bin/ictbot", shutil.which("true") or "/bin/true"))
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Unknown key" not in result.stderr and "ignoring" not in result.stderr, result.stderr
