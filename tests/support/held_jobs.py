"""Jobs a test keeps instead of running: what a worker would find in its queue."""
from __future__ import annotations

from marketplace.jobs import outbox


def hold_jobs(monkeypatch, task: str) -> list[tuple]:
    """The arguments of each ``task`` job queued after a commit, kept here instead of run (other jobs run)."""
    queued: list[tuple] = []
    real = outbox.enqueue_after_commit

    def keep(session, name, *args):
        if name == task:
            queued.append(args)
        else:
            real(session, name, *args)

    monkeypatch.setattr(outbox, "enqueue_after_commit", keep)
    return queued
