"""Fixtures for the storage tests: a moto S3 server on loopback and one storage per backend."""
from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

# ``tests/storage`` is a package but ``tests`` may not be, so pytest puts
# ``tests/`` (not the project root) on sys.path; make ``marketplace`` and
# ``tests.support`` importable however pytest was started.
_PROJECT_ROOT = str(Path(__file__).resolve().parents[2])
if _PROJECT_ROOT not in sys.path:
    sys.path.insert(0, _PROJECT_ROOT)

from marketplace.storage import LocalStorage, S3Storage  # noqa: E402
from tests.support.moto import (  # noqa: E402
    DUMMY_ACCESS_KEY_ID,
    DUMMY_REGION,
    DUMMY_SECRET_ACCESS_KEY,
)


@pytest.fixture
def s3_storage(moto_endpoint: str) -> S3Storage:
    """An ``S3Storage`` on a fresh, uniquely named bucket of the moto server."""
    storage = S3Storage(
        f"test-{uuid.uuid4().hex[:20]}",
        endpoint_url=moto_endpoint,
        region=DUMMY_REGION,
        access_key_id=DUMMY_ACCESS_KEY_ID,
        secret_access_key=DUMMY_SECRET_ACCESS_KEY,
    )
    storage.ensure_bucket()
    return storage


@pytest.fixture
def local_storage(tmp_path: Path) -> LocalStorage:
    """A ``LocalStorage`` rooted in a not-yet-existing directory under ``tmp_path``."""
    return LocalStorage(tmp_path / "store")


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest) -> LocalStorage | S3Storage:
    """Each backend in turn, so the contract tests run against both."""
    return request.getfixturevalue(f"{request.param}_storage")
