"""docker-compose.yml is valid and wires the roles as intended (offline, no Docker daemon)."""

from __future__ import annotations

import subprocess
from typing import Any

import yaml

from tests.conftest import ROOT


def _compose(docker_compose: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [docker_compose, "-f", "docker-compose.yml", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_compose_file_validates(docker_compose: str) -> None:
    result = _compose(docker_compose, "config", "--quiet")
    assert result.returncode == 0, result.stderr


def test_compose_services_are_wired(docker_compose: str) -> None:
    result = _compose(docker_compose, "config")
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    services = config["services"]

    assert {"kafka", "postgres", "migrate", "ingest", "process"} <= set(services)
    assert "zookeeper" not in services
    assert "healthcheck" in services["postgres"]
    assert services["process"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )

    kafka_env = services["kafka"]["environment"]
    if isinstance(kafka_env, list):
        kafka_env = dict(item.split("=", 1) for item in kafka_env)
    assert "controller" in str(kafka_env["KAFKA_PROCESS_ROLES"]).split(",")
