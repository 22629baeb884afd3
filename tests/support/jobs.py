"""``flask jobs worker`` as a process of its own (the development config, the test's database and queue), for tests
that need a real consumer: started, killed with SIGKILL, or stopped."""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class Worker:
    def __init__(self, folder: Path, env: dict[str, str], name: str = "worker") -> None:
        self.folder, self.name = folder, name
        self.env = {**os.environ, "MARKETPLACE_CONFIG": "development", "FLASK_DEBUG": "0", "FLASK_APP": "wsgi",
                    "SECRET_KEY": secrets.token_urlsafe(48), "MARKETPLACE_INSTANCE_DIR": str(folder / "instance"),
                    "JOBS_IMMEDIATE": "false", **env}
        self.process: subprocess.Popen | None = None

    @property
    def log_text(self) -> str:
        return (self.folder / f"{self.name}.log").read_text(errors="replace")

    def start(self) -> Worker:
        self.log = open(self.folder / f"{self.name}.log", "wb")  # noqa: SIM115 - open while the worker runs
        self.process = subprocess.Popen([sys.executable, "-m", "flask", "jobs", "worker"], cwd=ROOT, env=self.env,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        return self

    def kill(self) -> None:
        """SIGKILL: no clean-up, as when a machine loses power or the OOM killer strikes."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.log.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if not self.log.closed:
            self.log.close()


def wait_for(condition: Callable[[], object], timeout: float, what: str, worker: Worker | None = None):
    """Poll ``condition`` until it is true; fail with ``what`` (and the worker's log) after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if worker is not None and worker.process.poll() is not None:
            raise AssertionError(f"the worker exited while waiting for {what}:\n{worker.log_text[-3000:]}")
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}" + (f":\n{worker.log_text[-3000:]}" if worker else ""))
