"""Request bodies for tests that must know how much of a body the server read."""
from __future__ import annotations

import io


class CountingStream(io.RawIOBase):
    """A request body that says how much of it the server read."""

    def __init__(self, size: int):
        self.size, self.read_bytes = size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.size - self.read_bytes)
        buffer[:n] = b" " * n
        self.read_bytes += n
        return n
