"""The catalog's search, switched between the database and an engine for the length of a block."""
from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def searching_on(app, catalog_engine):
    """The catalog searched on ``catalog_engine`` (None: on the database) within the block; the app's own engine
    is put back after."""
    saved = app.extensions.pop("catalog_engine", None)
    if catalog_engine is not None:
        app.extensions["catalog_engine"] = catalog_engine
    try:
        yield catalog_engine
    finally:
        app.extensions.pop("catalog_engine", None)
        if saved is not None:
            app.extensions["catalog_engine"] = saved
