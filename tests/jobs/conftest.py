"""Jobs fixtures: a client signed in as a platform admin."""
from __future__ import annotations

import pytest


@pytest.fixture
def admin_client(client, auth, admin):
    assert auth.login(admin.email).status_code == 302
    return client
