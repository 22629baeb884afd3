"""`make run PORT=...` serves on the port asked for (5000 unless said), and links in mail point there."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def dry_run(*args: str) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    done = subprocess.run(["make", "-n", "run", *args], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=True)
    return done.stdout


def test_make_run_serves_on_the_port_asked_for():
    commands = dry_run("PORT=5057")
    assert "flask run --host 127.0.0.1 --port 5057" in commands
    assert "PUBLIC_BASE_URL:-http://127.0.0.1:5057" in commands


def test_make_run_serves_on_5000_by_default():
    assert "--port 5000" in dry_run()


def test_the_demo_load_writes_mail_linking_to_the_port_asked_for():
    load = next(line for line in dry_run("PORT=6187").splitlines() if "flask demo load" in line)
    assert "PUBLIC_BASE_URL=${PUBLIC_BASE_URL:-http://127.0.0.1:6187}" in load
