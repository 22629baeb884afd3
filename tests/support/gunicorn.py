"""``gunicorn wsgi:app`` as a process of its own on a loopback port, for tests that need real workers."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


class Gunicorn:
    """Two workers (by default) of the development config with a random key, serving ``env`` on 127.0.0.1;
    ``start()`` returns the base URL once ``ready_path`` answers 200, ``stop()`` ends the process."""

    def __init__(self, folder: Path, env: dict[str, str], *extra_args: str, workers: int = 2,
                 ready_path: str = "/healthz") -> None:
        self.folder, self.extra_args, self.workers, self.ready_path = folder, extra_args, workers, ready_path
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "MARKETPLACE_CONFIG": "development", "FLASK_DEBUG": "0",
                    "SECRET_KEY": secrets.token_urlsafe(48), **env}
        self.process: subprocess.Popen | None = None

    def start(self) -> str:
        self.log = open(self.folder / "gunicorn.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
             "--log-level", "warning", *self.extra_args, "wsgi:app"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        probe = requests.Session()
        probe.trust_env = False  # loopback only, never through a proxy
        deadline = time.monotonic() + 30
        try:
            while True:
                if self.process.poll() is not None:
                    self.stop()
                    pytest.fail(f"gunicorn exited: {(self.folder / 'gunicorn.log').read_text()[-2000:]}")
                try:
                    if probe.get(f"{self.base}{self.ready_path}", timeout=2).status_code == 200:
                        return self.base
                except (requests.ConnectionError, requests.Timeout):  # not up yet, or a worker still booting
                    pass
                if time.monotonic() > deadline:
                    self.stop()
                    pytest.fail("gunicorn did not answer within 30 s")
                time.sleep(0.2)
        finally:
            probe.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()
