"""A throwaway PostgreSQL cluster on loopback, started with the server's own initdb and pg_ctl.

Debian keeps them outside PATH (/usr/lib/postgresql/<version>/bin). As root, the cluster runs as the
``postgres`` user through runuser, since PostgreSQL refuses to run as root.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support.ports import free_port


def _bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} not found; install the postgresql package")
    return found


class PostgresCluster:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="marketplace-pg-"))
        self.port = free_port()
        self.as_root = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> str:
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        data = str(self.dir / "data")
        self._run(_bin("initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale")
        self.resume()
        self._run(_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "marketplace_test")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/marketplace_test"

    def __enter__(self) -> str:
        """The cluster started, its database's URL; stopped and removed when the block ends (or start fails)."""
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()

    def pause(self) -> None:
        """Stop the server (``pg_ctl stop -m fast``: clients are disconnected), keeping its data for ``resume``."""
        self._run(_bin("pg_ctl"), "-D", str(self.dir / "data"), "-w", "-m", "fast", "stop")

    def resume(self) -> None:
        """Start the server on its port and wait until it accepts connections."""
        self._run(
            _bin("pg_ctl"), "-D", str(self.dir / "data"), "-l", str(self.dir / "log"), "-w", "-o",
            f"-h 127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=100",
            "start",
        )

    def stop(self) -> None:
        try:
            self._run(_bin("pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
