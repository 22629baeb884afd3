"""gunicorn settings read from this folder (``gunicorn wsgi:app``); command-line flags still win.

After a worker has loaded the app, every object that exists then (modules, the app, templates, SQLAlchemy's
mappers) lives for the worker's lifetime: ``gc.freeze()`` moves them out of the collector's generations, so the
full collections that requests trigger no longer walk them (shorter pauses on every endpoint).
"""
import gc


def post_worker_init(worker):
    gc.freeze()
