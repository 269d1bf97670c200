"""docker-compose.yml is valid and wires the roles as intended (offline, no Docker daemon)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import yaml
from dockerfile_parse import DockerfileParser

from tests.conftest import ROOT, spawn_drawdown
from tests.servers import free_port


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


def test_the_image_listens_where_a_published_port_reaches_it() -> None:
    """`docker run -p 8000:8000` reaches the API only if it listens on 0.0.0.0 inside; the
    README's Docker quick start uses the port and volume the Dockerfile declares."""
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "DRAWDOWN_HTTP_ADDR=0.0.0.0:8000" in dockerfile
    assert "EXPOSE 8000" in dockerfile
    assert "VOLUME /data" in dockerfile
    assert "DRAWDOWN_DATABASE_URL=sqlite+aiosqlite:////data/drawdown.db" in dockerfile
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("### Docker quick start", 1)[1].split("\n## ", 1)[0]
    assert "docker build -t drawdown ." in quick_start
    assert "docker run --rm -p 8000:8000 -v drawdown-data:/data drawdown" in quick_start


def test_make_run_installs_only_what_running_needs() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "sync --frozen --no-dev" in recipe
    assert "run --frozen --no-dev drawdown run" in recipe
    assert "install" not in recipe.splitlines()[0].split("##")[0]  # not the dev install


def test_the_images_command_with_its_environment_serves_on_every_interface(
    tmp_path: Path,
) -> None:
    """No Docker engine runs here, so the image's ENTRYPOINT and CMD run as a process with
    the image's DRAWDOWN_* environment (its /data volume moved to a temporary folder): it
    listens on 0.0.0.0 and answers there."""
    image = DockerfileParser(path=str(ROOT / "Dockerfile"))
    env = {k: v for k, v in image.envs.items() if k.startswith("DRAWDOWN_")}
    host, _, port = env["DRAWDOWN_HTTP_ADDR"].rpartition(":")
    assert (host, port) == ("0.0.0.0", "8000")
    assert json.loads(image.structure[-2]["value"]) == ["drawdown"]  # ENTRYPOINT
    command = json.loads(image.structure[-1]["value"])  # CMD
    free = free_port()
    env["DRAWDOWN_HTTP_ADDR"] = f"0.0.0.0:{free}"
    env["DRAWDOWN_DATABASE_URL"] = env["DRAWDOWN_DATABASE_URL"].replace(
        "////data/", f"///{tmp_path}/"
    )
    process = spawn_drawdown(
        *command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 120
        while not _ready(f"http://127.0.0.1:{free}/readyz"):
            assert process.poll() is None, "the image's command exited"
            assert time.monotonic() < deadline, "the image's command never became ready"
            time.sleep(0.5)
        listening = {
            (c.laddr.ip, c.laddr.port)
            for c in psutil.Process(process.pid).net_connections("tcp")
            if c.status == psutil.CONN_LISTEN
        }
        assert ("0.0.0.0", free) in listening
        assert (tmp_path / "drawdown.db").exists()
    finally:
        process.terminate()
        process.wait(60)


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False
