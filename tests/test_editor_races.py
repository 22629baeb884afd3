"""Saves of one editor step from several windows opened on the same saved state, raced through the real HTTP stack
(``gunicorn wsgi:app`` with several workers on a database of the module's own: a SQLite file, or with
TEST_DB=postgresql a PostgreSQL database). The saved stamp is checked under the version's lock: exactly one save
goes through; every other window is shown its input again with "changed in another window" (409), never a 5xx.
"""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from marketplace.audit.models import AuditEvent
from marketplace.listings import services as listings
from marketplace.listings.models import PricingPlan, ProductVersion
from tests import factories
from tests.listings.test_editor_hostile import STALE
from tests.listings.test_views import METADATA, PLAN_FORM
from tests.support.databases import own_database
from tests.support.races import in_app, racing_market, racing_server
from tests.test_decision_races import RACERS, _logged_in, _race

pytestmark = pytest.mark.no_transaction

SELLER = "editor-racer@example.org"


@pytest.fixture(scope="module")
def editor_database(database_url, tmp_path_factory):
    with own_database(database_url, tmp_path_factory.mktemp("editor-races"), "editor") as url:
        yield url


@pytest.fixture(scope="module")
def market(editor_database, tmp_path_factory):
    """The app on the module's database and a seller with a draft product that has a plan."""
    def build(app, session) -> dict:
        seller = factories.user(session, email=SELLER, organization="Editor Racers")
        product = factories.product(session, seller, title="Raced draft")
        plan = listings.add_plan(session, seller, product.latest_version, factories.PLAN)
        return {"product": product.id, "version": product.latest_version.id, "plan": plan.id}

    with racing_market(editor_database, tmp_path_factory.mktemp("editor-market"), build) as values:
        yield values


@pytest.fixture(scope="module")
def server(market, editor_database):
    with racing_server(market["folder"], editor_database) as base:
        yield base


def _windows(server, page: str) -> list[tuple]:
    """RACERS signed-in browsers, each with the page open: its CSRF token and the stamp of what it showed."""
    windows = []
    for _ in range(RACERS):
        browser, token = _logged_in(server, SELLER, page)
        shown = browser.get(page, timeout=30, allow_redirects=False).text
        stamp = re.search(r'name="saved_stamp" value="([0-9a-f]+)"', shown).group(1)
        windows.append((browser, token, stamp))
    assert len({stamp for _, _, stamp in windows}) == 1  # every window opened on the same saved state
    return windows


def _one_saved(answers) -> None:
    """One save redirects to the next step; every other window is re-shown with the stale message (409)."""
    assert sorted(status for status, _ in answers) == [302] + [409] * (RACERS - 1), [s for s, _ in answers]
    for status, body in answers:
        if status == 409:
            assert STALE in html.unescape(body), body[:500]


def _events(market, action: str, subject_type: str, subject_id: int) -> int:
    return in_app(market["app"], lambda s: s.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == action, AuditEvent.subject_type == subject_type, AuditEvent.subject_id == subject_id)))


def test_concurrent_saves_of_the_details_step_from_one_saved_state_save_once(market, server):
    page = f"{server}/seller/products/{market['product']}/versions/1/details"
    windows = _windows(server, page)
    coverage = [f"Coverage typed in window {n}" for n in range(RACERS)]
    answers = _race([(browser, "POST", page, {"data": {
        **METADATA, "csrf_token": token, "saved_stamp": stamp, "spatial_coverage": coverage[n]}})
        for n, (browser, token, stamp) in enumerate(windows)])
    _one_saved(answers)
    winner = next(n for n, (status, _) in enumerate(answers) if status == 302)
    saved = in_app(market["app"], lambda s: s.get(ProductVersion, market["version"]).spatial_coverage)
    assert saved == coverage[winner]
    for n, (status, body) in enumerate(answers):
        if status == 409:
            assert coverage[n] in body  # the window's input kept
    assert _events(market, "version.metadata_updated", "version", market["version"]) == 1


def test_concurrent_saves_of_a_plan_from_one_saved_state_save_once(market, server):
    page = f"{server}/seller/products/{market['product']}/versions/1/plans/{market['plan']}/edit"
    windows = _windows(server, page)
    form = {key.removeprefix("plan-"): value for key, value in PLAN_FORM.items()}
    names = [f"Plan named in window {n}" for n in range(RACERS)]
    answers = _race([(browser, "POST", page, {"data": {
        **form, "csrf_token": token, "saved_stamp": stamp, "name": names[n]}})
        for n, (browser, token, stamp) in enumerate(windows)])
    _one_saved(answers)
    winner = next(n for n, (status, _) in enumerate(answers) if status == 302)
    assert in_app(market["app"], lambda s: s.get(PricingPlan, market["plan"]).name) == names[winner]
    assert _events(market, "plan.updated", "plan", market["plan"]) == 1
