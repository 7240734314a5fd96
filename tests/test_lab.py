"""Smoke test of `make lab`: JupyterLab starts on loopback with the Makefile's flags, serves /lab,
lists the course notebooks through its contents API, asks nothing about Jupyter news, and shuts
down cleanly."""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

START_TIMEOUT_S = 90


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, token: str, method: str = "GET") -> tuple[int, bytes]:
    request = urllib.request.Request(url, method=method, headers={"Authorization": f"token {token}"})
    # Loopback only: bypass any proxy settings from the environment.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _lab_flags(repo_root) -> list[str]:
    """The flags `make lab` passes to JupyterLab (LAB_FLAGS in the Makefile)."""
    makefile = (repo_root / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    match = re.search(r"^LAB_FLAGS := (.*)$", makefile, re.M)
    assert match, "the Makefile defines no LAB_FLAGS for `make lab`"
    return shlex.split(match.group(1))


def test_make_lab_uses_the_lab_flags(repo_root):
    makefile = (repo_root / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^lab: setup\n\t(.*)$", makefile, re.M)
    assert recipe and "jupyter lab $(LAB_FLAGS)" in recipe.group(1)
    assert any(flag.startswith("--LabApp.app_settings_dir=") for flag in _lab_flags(repo_root))


@pytest.mark.slow
def test_jupyterlab_serves_the_course(repo_root, tmp_path):
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
    }
    command = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--port-retries=0",
        f"--IdentityProvider.token={token}",
        *_lab_flags(repo_root),
    ]  # fmt: skip
    if os.geteuid() == 0:  # containers and CI machines often run as root
        command.append("--allow-root")
    log = tmp_path / "lab.log"
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            command, env=env, cwd=repo_root, stdout=log_file, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                status, _ = _get(f"{base}/api/status", token)
                if status == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, f"server exited early:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"no answer in {START_TIMEOUT_S} s:\n{log.read_text()}"
            time.sleep(0.5)

        status, body = _get(f"{base}/lab", token)
        assert status == 200 and b"JupyterLab" in body

        status, body = _get(f"{base}/api/contents/", token)
        assert status == 200
        names = {item["name"] for item in json.loads(body)["content"]}
        assert "01_tokenization.ipynb" in names and "solutions" in names

        # lab-settings/overrides.json: no "fetch Jupyter news?" question, no update check
        notification = "@jupyterlab/apputils-extension:notification"
        status, body = _get(f"{base}/lab/api/settings/{notification}", token)
        defaults = {k: v["default"] for k, v in json.loads(body)["schema"]["properties"].items()}
        assert status == 200 and defaults["fetchNews"] == "false"
        assert defaults["checkForUpdates"] is False

        status, body = _get(f"{base}/api/contents/solutions", token)
        solutions = {item["name"] for item in json.loads(body)["content"]}
        assert "01_tokenization_solutions.ipynb" in solutions

        status, _ = _get(f"{base}/api/shutdown", token, method="POST")
        assert status in (200, 204)
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=30)
