"""Registers the page blueprints of every domain."""
from __future__ import annotations

from flask import Flask


def init_views(app: Flask) -> None:
    pass
