"""Decisions raced through the real HTTP stack: ``gunicorn wsgi:app`` with several workers and threads on a database
of the module's own (a SQLite file, or with TEST_DB=postgresql a PostgreSQL database), RACERS clients sending the
same decision about one object at the same moment. Exactly one wins (200); every other answer is a 409 in the one
error shape; the object moved once, with one audit event and one notification. Mixed decisions (approve against
decline) have one winner too, and nobody ever gets a 5xx. The system's own moves (expiry) race as concurrent runs
of their command, each with a session of its own.
"""
from __future__ import annotations

import re
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from marketplace.accounts.models import PlatformRole, User
from marketplace.audit.models import AuditEvent
from marketplace.db import utcnow, write_intent
from marketplace.extensions import db
from marketplace.licensing.models import Licence
from marketplace.licensing.services import expire_licences
from marketplace.listings.models import DataProduct
from marketplace.notifications.models import Notification
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.review import services as review
from marketplace.review.models import ReviewCase
from tests import factories
from tests.licensing.conftest import SCENARIO
from tests.support.databases import own_database
from tests.support.races import in_app, racing_market, racing_server

pytestmark = pytest.mark.no_transaction

RACERS = 8
GOOD_CARD = "4242 4242 4242 4242"
ERROR_SHAPE = {"status", "code", "message", "errors"}


# ---------------------------------------------------------------- a database, a market and a server per module


@pytest.fixture(scope="module")
def race_database(database_url, tmp_path_factory):
    """A database of this module's own on the suite's backend, since the server's workers commit for real."""
    with own_database(database_url, tmp_path_factory.mktemp("decision-races"), "races") as url:
        yield url


@pytest.fixture(scope="module")
def market(race_database, tmp_path_factory):
    """The app on the module's database, a seller organization with a listed product (a plan needing approval and
    a paid one), RACERS reviewers with API tokens and the seller's token."""
    def build(app, session) -> dict:
        storage = app.extensions["storage"]
        seller = factories.user(session, email="race-seller@example.org", organization="Race Seller")
        reviewers = [factories.user(session, email=f"race-reviewer{n}@example.org", role=PlatformRole.REVIEWER)
                     for n in range(RACERS)]
        product = factories.listed_product(session, storage, seller, reviewers[0], title="Contested feed", plans=[
            {"name": "By approval", "kind": "one_time", "amount": 90000, "requires_approval": True},
            {"name": "Paid", "kind": "one_time", "amount": 50000}])
        plans = {p.name: p.id for p in product.listed_version.plans}
        return {
            "seller": seller.id, "reviewers": [r.id for r in reviewers],
            "approval_plan": plans["By approval"], "paid_plan": plans["Paid"],
            "seller_token": factories.api_token(session, seller),
            "reviewer_tokens": [factories.api_token(session, r) for r in reviewers],
        }

    with racing_market(race_database, tmp_path_factory.mktemp("decision-market"), build) as values:
        yield values


@pytest.fixture(scope="module")
def server(market, race_database):
    with racing_server(market["folder"], race_database) as base:
        yield base


def _in_app(market, build):
    """Run ``build(session)`` in the app on the module's database and commit; what it returned."""
    return in_app(market["app"], build)


def _browser() -> requests.Session:
    browser = requests.Session()
    browser.trust_env = False  # loopback only, never through a proxy
    return browser


def _race(calls: list) -> list[tuple[int, dict | str]]:
    """Send every call ``(browser, method, url, kwargs)`` at the same moment; each answer's status and body."""
    start = threading.Barrier(len(calls))

    def send(call):
        browser, method, url, kwargs = call
        browser.close()  # no kept-alive connection the server may have closed meanwhile: each call opens its own
        start.wait()
        resp = browser.request(method, url, timeout=60, allow_redirects=False, **kwargs)
        try:
            return resp.status_code, resp.json()
        except ValueError:
            return resp.status_code, resp.text

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(send, calls))


def _api_race(server, calls: list[tuple[str, str, dict | None]]) -> list[tuple[int, dict | str]]:
    """POST each ``(token, path, json)`` to the API at the same moment."""
    return _race([(_browser(), "POST", f"{server}/api/v1{path}",
                   {"json": body or {}, "headers": {"Authorization": f"Bearer {token}"}})
                  for token, path, body in calls])


def _one_wins(answers) -> None:
    """Exactly one 200; every other answer a 409 in the one error shape (never a 5xx)."""
    assert sorted(status for status, _ in answers) == [200] + [409] * (len(answers) - 1), answers
    for status, body in answers:
        if status == 409:
            assert isinstance(body, dict) and set(body) == ERROR_SHAPE and body["status"] == 409, body


def _events(market, action: str, subject_type: str, subject_id: int) -> int:
    return _in_app(market, lambda s: s.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == action, AuditEvent.subject_type == subject_type, AuditEvent.subject_id == subject_id)))


def _notes(market, organization_id: int, subject: str) -> int:
    return _in_app(market, lambda s: s.scalar(select(func.count(Notification.id)).where(
        Notification.organization_id == organization_id, Notification.subject == subject)))


# ---------------------------------------------------------------- orders


def _buyer(session, market, name: str) -> tuple[int, int, str]:
    """A new buyer organization with one member: the user id, organization id and an API token."""
    user = factories.user(session, email=f"{name}-{uuid.uuid4().hex[:6]}@example.org",
                          organization=f"{name} {uuid.uuid4().hex[:6]}")
    return user.id, user.memberships[0].organization_id, factories.api_token(session, user)


def _order(market, plan: str, *, paid: bool = False) -> dict:
    """A new buyer's order for the named plan of the module's product, fulfilled by a good card if ``paid``."""
    def build(session):
        user_id, org_id, token = _buyer(session, market, "buyer")
        user = session.get(User, user_id)
        order = orders.request_licence(session, user, orders.LicenceRequest(
            plan_id=market[plan], organization_id=org_id, scenario=SCENARIO, accept_terms=True, idempotency_key=""))
        if paid:
            orders.start_checkout(session, user, order, market["app"].extensions["payments"],
                                  success_url="/ok", cancel_url="/cancel")
            orders.pay_with_test_card(session, user, order, GOOD_CARD)
        return {"id": order.id, "number": order.number, "buyer_org": org_id, "buyer_token": token,
                "email": user.email}
    return _in_app(market, build)


def _status(market, order_id: int) -> str:
    return _in_app(market, lambda s: s.get(Order, order_id).status.value)


def test_concurrent_approvals_of_one_request_approve_it_once(market, server):
    order = _order(market, "approval_plan")
    answers = _api_race(server, [(market["seller_token"], f"/orders/{order['id']}/decision",
                                  {"decision": "approve", "message": f"Approval {n}"}) for n in range(RACERS)])
    _one_wins(answers)
    assert _status(market, order["id"]) == "awaiting_payment"
    assert _events(market, "order.approve", "order", order["id"]) == 1
    assert _events(market, "order.await_payment", "order", order["id"]) == 1
    assert _notes(market, order["buyer_org"], f"Licence request {order['number']} approved") == 1


def test_approve_and_decline_together_have_one_winner_and_never_a_5xx(market, server):
    order = _order(market, "approval_plan")
    calls = [(market["seller_token"], f"/orders/{order['id']}/decision",
              {"decision": "approve"} if n % 2 else {"decision": "decline", "message": "Not for this use."})
             for n in range(RACERS)]
    answers = _api_race(server, calls)
    _one_wins(answers)
    winner = next(body for status, body in answers if status == 200)
    approved, declined = (_events(market, f"order.{a}", "order", order["id"]) for a in ("approve", "decline"))
    assert (approved, declined) == ((1, 0) if winner["status"] == "awaiting_payment" else (0, 1)), winner
    assert _status(market, order["id"]) == winner["status"] in ("awaiting_payment", "declined")
    subject = "approved" if approved else "declined"
    assert _notes(market, order["buyer_org"], f"Licence request {order['number']} {subject}") == 1


def _placing(market, server, keys: list[str]):
    """One new buyer organization sends RACERS order requests for the paid plan at once, one per key."""
    _, org_id, token = _in_app(market, lambda session: _buyer(session, market, "placer"))
    organization = org_slug(market, org_id)
    calls = [(_browser(), "POST", f"{server}/api/v1/orders",
              {"json": {"plan_id": market["paid_plan"], "organization": organization,
                        "scenario": SCENARIO, "accept_terms": True},
               "headers": {"Authorization": f"Bearer {token}", **({"Idempotency-Key": key} if key else {})}})
             for key in keys]
    answers = _race(calls)
    placed = _in_app(market, lambda session: session.scalars(
        select(Order.id).where(Order.buyer_organization_id == org_id)).all())
    return answers, placed


def org_slug(market, org_id: int) -> str:
    from marketplace.accounts.models import Organization

    return _in_app(market, lambda session: session.get(Organization, org_id).slug)


def test_simultaneous_requests_of_one_organization_for_one_plan_open_one_order(market, server):
    answers, placed = _placing(market, server, ["", *(f"key-{n}-{uuid.uuid4().hex}" for n in range(RACERS - 1))])
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * (RACERS - 1), answers
    assert all(set(body) == ERROR_SHAPE for status, body in answers if status == 409)
    assert len(placed) == 1


def test_one_idempotency_key_sent_at_once_creates_one_order_and_answers_201_once(market, server):
    key = f"same-{uuid.uuid4().hex}"
    answers, placed = _placing(market, server, [key] * RACERS)
    assert sorted(status for status, _ in answers) == [200] * (RACERS - 1) + [201], answers
    assert {body["id"] for _, body in answers} == set(placed) and len(placed) == 1


def test_concurrent_cancels_cancel_once(market, server):
    order = _order(market, "paid_plan")
    answers = _api_race(server, [(order["buyer_token"], f"/orders/{order['id']}/cancel", None)] * RACERS)
    _one_wins(answers)
    assert _status(market, order["id"]) == "cancelled"
    assert _events(market, "order.cancel", "order", order["id"]) == 1


def test_concurrent_refunds_refund_and_revoke_once(market, server):
    order = _order(market, "paid_plan", paid=True)
    answers = _api_race(server, [(market["seller_token"], f"/orders/{order['id']}/refund",
                                  {"reason": f"Duplicate purchase {n}."}) for n in range(RACERS)])
    _one_wins(answers)
    assert _status(market, order["id"]) == "refunded"
    assert _events(market, "order.refund", "order", order["id"]) == 1
    licence_id = _in_app(market, lambda s: s.scalar(select(Licence.id).where(Licence.order_id == order["id"])))
    assert _events(market, "licence.revoke", "licence", licence_id) == 1
    assert _notes(market, order["buyer_org"], f"Order {order['number']} refunded") == 1


def _csrf(browser: requests.Session, url: str) -> str:
    page = browser.get(url, timeout=30, allow_redirects=False)
    assert page.status_code == 200, page.text[:500]
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)


def _logged_in(server, email: str, form_page: str) -> tuple[requests.Session, str]:
    """A browser signed in as ``email``, and the CSRF token of ``form_page`` in its session."""
    browser = _browser()
    resp = browser.post(f"{server}/login", data={"csrf_token": _csrf(browser, f"{server}/login"), "email": email,
                                                 "password": factories.PASSWORD}, timeout=30, allow_redirects=False)
    assert resp.status_code == 302, resp.text[:500]
    return browser, _csrf(browser, form_page)


def test_concurrent_payments_at_the_checkout_page_charge_once(market, server):
    order = _order(market, "paid_plan")
    _in_app(market, lambda s: orders.start_checkout(
        s, s.get(Order, order["id"]).buyer, s.get(Order, order["id"]), market["app"].extensions["payments"],
        success_url="/ok", cancel_url="/cancel"))
    page = f"{server}/orders/{order['id']}/checkout"
    browsers = [_logged_in(server, order["email"], page) for _ in range(RACERS)]
    answers = _race([(browser, "POST", page, {"data": {"csrf_token": token, "card_number": GOOD_CARD, "pay": "y"}})
                     for browser, token in browsers])
    assert all(status in (302, 409) for status, _ in answers), [(s, str(b)[:300]) for s, b in answers]
    assert _status(market, order["id"]) == "fulfilled"
    assert _events(market, "order.pay", "order", order["id"]) == 1
    assert _in_app(market, lambda s: s.scalar(select(func.count(Licence.id)).where(
        Licence.order_id == order["id"]))) == 1


def test_the_seller_deciding_one_request_from_several_pages_at_once_decides_it_once(market, server):
    """The web form: one decision wins (redirect with its flash); every other page says the request is no longer
    waiting, with 409 (never a 5xx), and the buyer hears once."""
    order = _order(market, "approval_plan")
    requests_page = f"{server}/seller/race-seller/requests"
    browsers = [_logged_in(server, "race-seller@example.org", requests_page) for _ in range(RACERS)]
    forms = [{"decision": "approve"} if n % 2 else {"decision": "decline", "message": "Not for this use."}
             for n in range(RACERS)]
    answers = _race([(browser, "POST", f"{server}/seller/race-seller/orders/{order['id']}/decide",
                      {"data": {"csrf_token": token, **form}}) for (browser, token), form in zip(browsers, forms)])
    assert sorted(status for status, _ in answers) == [302] + [409] * (RACERS - 1), [s for s, _ in answers]
    refusals = [body for status, body in answers if status == 409]
    # A loser is told the order was decided meanwhile: by the lifecycle, or, for a decline that finds the order
    # approved, by the decline's own check (it no longer waits for a decision nor for evidence).
    lost = (r'role="alert">(Cannot (approve|decline) an order that is (awaiting payment|declined)\.'
            r'|Order ORD-\d+ waits neither for your decision nor for evidence: it cannot be declined\.)<')
    assert all(re.search(lost, body) for body in refusals), refusals[0]
    final = _status(market, order["id"])
    assert final in ("awaiting_payment", "declined")
    assert _events(market, "order.approve", "order", order["id"]) + _events(
        market, "order.decline", "order", order["id"]) == 1
    word = "approved" if final == "awaiting_payment" else "declined"
    assert _notes(market, order["buyer_org"], f"Licence request {order['number']} {word}") == 1


def _concurrent_runs(market, work) -> Counter:
    """Run ``work(session)`` in RACERS threads at the same moment, each as its command runs it (its own session,
    writes begun at once, one commit); count "ok" or the failure by name."""
    app, start, outcomes, lock = market["app"], threading.Barrier(RACERS), Counter(), threading.Lock()

    def run():
        with app.app_context(), write_intent():
            start.wait()
            try:
                work(db.session)
                db.session.commit()
                outcome = "ok"
            except Exception as exc:  # noqa: BLE001 - reported by name, and fails the test
                db.session.rollback()
                outcome = f"{type(exc).__name__}: {exc}"
            finally:
                db.session.remove()
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=run) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def test_concurrent_expiry_runs_expire_an_order_once(market):
    order = _order(market, "paid_plan")

    def overdue(session):
        session.get(Order, order["id"]).deadline = utcnow() - timedelta(minutes=1)
    _in_app(market, overdue)
    assert _concurrent_runs(market, orders.expire_orders) == {"ok": RACERS}
    assert _status(market, order["id"]) == "expired"
    assert _events(market, "order.expire", "order", order["id"]) == 1
    assert _notes(market, order["buyer_org"], f"Order {order['number']} expired") == 1


def test_concurrent_expiry_runs_expire_a_licence_once(market):
    order = _order(market, "paid_plan", paid=True)

    def lapsed(session):
        licence = session.scalar(select(Licence).where(Licence.order_id == order["id"]))
        licence.valid_until = utcnow() - timedelta(minutes=1)
        return licence.id
    licence_id = _in_app(market, lapsed)
    assert _concurrent_runs(market, expire_licences) == {"ok": RACERS}
    assert _in_app(market, lambda s: s.get(Licence, licence_id).status.value) == "expired"
    assert _events(market, "licence.expire", "licence", licence_id) == 1


# ---------------------------------------------------------------- review


def _case(market, *, claimed: bool = False) -> dict:
    """A new product's complete version, submitted (and claimed by the first reviewer if ``claimed``)."""
    def build(session):
        seller = session.get(User, market["seller"])
        product = factories.product(session, seller, title=f"Contested case {uuid.uuid4().hex[:6]}")
        version = factories.complete_version(session, market["app"].extensions["storage"], seller,
                                             product.latest_version)
        round_ = review.submit_version(session, seller, version, market["app"].extensions["storage"])
        if claimed:
            review.claim_case(session, session.get(User, market["reviewers"][0]), round_.case)
        session.flush()
        return {"id": round_.case.id, "version": version.id, "organization": product.organization_id,
                "title": version.title_en, "label": version.label}
    return _in_app(market, build)


def _case_row(market, case_id: int) -> tuple[str, int | None]:
    def read(session):
        case = session.get(ReviewCase, case_id)
        return case.version.status.value, case.reviewer_id
    return _in_app(market, read)


def test_reviewers_claiming_one_case_at_once_get_it_once(market, server):
    case = _case(market)
    answers = _api_race(server, [(token, f"/review/cases/{case['id']}/claim", None)
                                 for token in market["reviewer_tokens"]])
    _one_wins(answers)
    status, reviewer_id = _case_row(market, case["id"])
    assert status == "in_review" and reviewer_id in market["reviewers"]
    assert _events(market, "version.claim", "version", case["version"]) == 1


def test_concurrent_releases_release_once(market, server):
    case = _case(market, claimed=True)
    answers = _api_race(server, [(market["reviewer_tokens"][0], f"/review/cases/{case['id']}/release", None)]
                        * RACERS)
    _one_wins(answers)
    assert _case_row(market, case["id"]) == ("submitted", None)
    assert _events(market, "version.release", "version", case["version"]) == 1


def test_concurrent_approvals_of_a_case_list_the_version_once(market, server):
    case = _case(market, claimed=True)
    answers = _api_race(server, [(market["reviewer_tokens"][0], f"/review/cases/{case['id']}/decision",
                                  {"decision": "approve", "answers": factories.ALL_PASS})] * RACERS)
    _one_wins(answers)
    assert _case_row(market, case["id"])[0] == "listed"
    assert _events(market, "version.approve", "version", case["version"]) == 1
    assert _events(market, "version.list", "version", case["version"]) == 1
    assert _notes(market, case["organization"], f"Approved and listed: {case['title']} v{case['label']}") == 1


def test_mixed_decisions_on_a_case_have_one_winner_and_never_a_5xx(market, server):
    case = _case(market, claimed=True)
    bodies = [{"decision": "approve", "answers": factories.ALL_PASS},
              {"decision": "request_changes", "comment": "Name the source of column 3."},
              {"decision": "reject", "comment": "The source forbids resale."}]
    answers = _api_race(server, [(market["reviewer_tokens"][0], f"/review/cases/{case['id']}/decision",
                                  bodies[n % 3]) for n in range(RACERS)])
    _one_wins(answers)
    decided = {a: _events(market, f"version.{a}", "version", case["version"])
               for a in ("approve", "request_changes", "reject")}
    assert sorted(decided.values()) == [0, 0, 1], decided
    winner = next(a for a, n in decided.items() if n)
    expected = {"approve": "listed", "request_changes": "changes_requested", "reject": "rejected"}[winner]
    assert _case_row(market, case["id"])[0] == expected


def _listed_product(market) -> dict:
    def build(session):
        seller = session.get(User, market["seller"])
        product = factories.listed_product(session, market["app"].extensions["storage"], seller,
                                           session.get(User, market["reviewers"][0]),
                                           title=f"Contested product {uuid.uuid4().hex[:6]}")
        return {"id": product.id, "organization": product.organization_id,
                "title": product.listed_version.title_en}
    return _in_app(market, build)


@pytest.mark.parametrize(("moves", "word", "final"), [
    (["suspend"], "Suspended", "suspended"),
    (["suspend", "reinstate"], "Reinstated", "listed"),
    (["delist"], "Delisted", "delisted"),
])
def test_concurrent_product_moves_happen_once(market, server, moves, word, final):
    product = _listed_product(market)
    token = market["reviewer_tokens"][1]
    for action in moves[:-1]:  # the way to the state the race starts from, one call at a time
        assert _api_race(server, [(token, f"/review/products/{product['id']}/status",
                                   {"action": action, "reason": "On the way."})])[0][0] == 200
    action = moves[-1]
    answers = _api_race(server, [(market["reviewer_tokens"][n], f"/review/products/{product['id']}/status",
                                  {"action": action, "reason": f"Reason {n}."}) for n in range(RACERS)])
    _one_wins(answers)
    assert _in_app(market, lambda s: s.get(DataProduct, product["id"]).status.value) == final
    assert _events(market, f"product.{action}", "product", product["id"]) == 1
    assert _notes(market, product["organization"], f"{word}: {product['title']}") == 1
