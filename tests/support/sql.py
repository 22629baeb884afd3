"""Looking into the statements a test made."""
from __future__ import annotations


def carries_nul(value) -> bool:
    """Whether statement parameters (a tuple, dict or list of them) hold a NUL in any text."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(carries_nul(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(carries_nul(v) for v in value)
    return False
