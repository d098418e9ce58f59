"""What the Dockerfile and deploy/compose.yaml ship, checked without Docker.

The Dockerfile builds a wheel from pyproject.toml, README.md and src/ and installs it (no
test extras). Here the same wheel is built from a copy of exactly those files and installed
into a fresh virtual environment that borrows only the dependencies, so a template, a static
file or a migration missing from the package data fails here rather than in an image.
The compose file is checked against the configuration tests/test_topology.py runs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any

import requests
import yaml

from tests.live import free_port

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"


def _compose() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return compose


def test_both_nodes_run_the_same_image_database_secret_and_settings_but_their_node_id() -> None:
    services = _compose()["services"]
    one, two = services["tokenry-1"], services["tokenry-2"]
    assert one["environment"].pop("TOKENRY_NODE_ID") == "tokenry-1"
    assert two["environment"].pop("TOKENRY_NODE_ID") == "tokenry-2"
    assert one == two
    assert one["environment"]["TOKENRY_REDIS_URL"] == "redis://redis:6379/0"
    assert "@postgres:5432/" in one["environment"]["TOKENRY_DATABASE_URL"]
    assert "secret:/var/lib/tokenry:ro" in one["volumes"]
    assert services["init"]["command"] == ["init"]  # the one place that migrates
    assert services["init"]["volumes"] == ["secret:/var/lib/tokenry"]
    assert one["depends_on"]["init"] == {"condition": "service_completed_successfully"}


def test_compose_runs_the_tested_nginx_conf_with_the_addresses_it_names() -> None:
    compose = _compose()
    services = compose["services"]
    nginx = services["nginx"]
    assert "./nginx.conf:/etc/nginx/conf.d/default.conf:ro" in nginx["volumes"]
    conf = (DEPLOY / "nginx.conf").read_text()
    upstreams = re.findall(r"^\s*server ([\w-]+):(\d+);", conf, re.MULTILINE)
    assert upstreams == [("tokenry-1", "8000"), ("tokenry-2", "8000"), ("backend", "8080")]
    assert all(name in services for name, _ in upstreams)
    assert services["backend"]["command"] == ["8080"]
    assert "TOKENRY_PORT=8000" in (ROOT / "Dockerfile").read_text()
    # Only nginx is reachable from outside, and only it is trusted to name the client.
    assert [name for name, service in services.items() if "ports" in service] == ["nginx"]
    assert nginx["ports"] == ["8080:80"] and "listen 80;" in conf
    address = nginx["networks"]["default"]["ipv4_address"]
    assert services["tokenry-1"]["environment"]["TOKENRY_FORWARDED_ALLOW_IPS"] == address


def _clean_env() -> dict[str, str]:
    """This process's environment without what would let a child find the checkout's own
    tokenry (PYTHONPATH=src would make pip skip the wheel as "already installed")."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("TOKENRY_") and k != "PYTHONPATH"}


def _build_wheel(tmp_path: Path) -> Path:
    """The Dockerfile's build stage: a wheel from pyproject.toml, README.md and src/ alone."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    wheels = tmp_path / "wheels"
    # With build isolation, as in the image: pip fetches the build backend pyproject.toml names.
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--wheel-dir", str(wheels), str(source)], check=True, timeout=120,
                   env=_clean_env())
    (wheel,) = wheels.glob("tokenry-*.whl")
    return wheel


def _installed(tmp_path: Path, wheel: Path) -> Path:
    """A fresh environment with the wheel; its dependencies come from the running one."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=60)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                    "--no-deps", "--no-index", str(wheel)], check=True, timeout=120,
                   env=_clean_env())
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; "
                                "print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # A .pth line adds the directory but not the .pth files inside it, so the running
    # environment's editable tokenry stays out: only the wheel's can be imported.
    borrowed = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "dependencies.pth").write_text("\n".join(sorted(borrowed)) + "\n")
    return venv


def test_the_wheel_the_image_installs_migrates_and_serves_its_pages_and_assets(
    tmp_path: Path,
) -> None:
    venv = _installed(tmp_path, _build_wheel(tmp_path))
    run = tmp_path / "run"  # the image's /var/lib/tokenry
    run.mkdir()
    env = _clean_env() | {"TOKENRY_SETTINGS_FILE": "/nonexistent/tokenry.env",
            "TOKENRY_SECRET_KEY_FILE": str(run / "tokenry.secret")}
    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import tokenry; print(tokenry.__file__)"], env=env, cwd=run,
                           capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(venv)), where

    tokenry = str(venv / "bin" / "tokenry")
    init = subprocess.run([tokenry, "init"], env=env, cwd=run, capture_output=True,
                          text=True, timeout=120, check=False)
    assert init.returncode == 0, init.stdout + init.stderr
    port = free_port()
    log = (run / "serve.log").open("wb")
    server = subprocess.Popen([tokenry, "serve", "--port", str(port)], env=env, cwd=run,
                              stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (run / "serve.log").read_text()
            try:
                ready = requests.get(base + "/readyz", timeout=5)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the installed server did not start"
                time.sleep(0.05)
        assert ready.status_code == 200, ready.text  # every migration shipped
        assert requests.get(base + "/healthz", timeout=10).status_code == 200
        login = requests.get(base + "/login", timeout=10)
        assert login.status_code == 200 and "<form" in login.text  # templates shipped
        assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', login.text)
        assert assets
        for asset in assets:
            assert requests.get(base + asset, timeout=10).status_code == 200, asset
        docs = requests.get(base + "/api/docs", timeout=10)
        assert docs.status_code == 200
        for asset in re.findall(r'(?:href|src)="(/[^"]+\.(?:js|css))"', docs.text):
            assert requests.get(base + asset, timeout=10).status_code == 200, asset
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
