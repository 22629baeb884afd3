"""A live API for contract tests: the app in a thread on a loopback port over its own migrated database, seeded
with a listed product, a draft, a buyer's licence and an open order, and one API token per role."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import requests
from flask_migrate import upgrade
from werkzeug.serving import make_server

from marketplace import create_app
from marketplace.accounts.models import PlatformRole
from marketplace.extensions import db
from tests import factories

SCENARIO = {"purpose": "research", "sector": "academia", "territory": "hong_kong", "expected_users": 3,
            "description": "Traffic speed research for a university transport study."}


@dataclass
class Seeded:
    """What the seeded database holds, by the ids and secrets a client would use."""

    seller_token: str
    buyer_token: str
    admin_token: str
    seller_org: str
    buyer_org: str
    product_id: int
    draft_product_id: int
    plan_id: int
    free_plan_id: int
    order_id: int
    licence_id: int
    case_id: int


def _seed(app) -> dict:
    storage = app.extensions["storage"]
    session = db.session
    seller = factories.user(session, email="seller@example.org", organization="Harbour Analytics")
    buyer = factories.user(session, email="buyer@example.org", organization="Kowloon Research")
    admin = factories.user(session, email="admin@example.org", role=PlatformRole.ADMIN, name="Ada Admin")
    # Created first so that its rows have the lowest ids, the ones the run draws most (1, 2 ...): the seller's
    # edits reach a draft, not a listed version that takes none.
    draft = factories.product(session, seller, title="Detector locations")
    factories.complete_version(session, storage, seller, draft.latest_version)
    listed = factories.listed_product(session, storage, seller, admin, title="Strategic road speeds",
                                      plans=[{"name": "Open research", "kind": "free", "amount": 0}])
    # A second submitted version waits in the review queue for the admin.
    from marketplace.review import services as review

    pending = factories.product(session, seller, title="Bus stop footfall")
    round_ = review.submit_version(session, seller, factories.complete_version(
        session, storage, seller, pending.latest_version), storage)
    session.commit()
    plans = {p.kind.value if hasattr(p.kind, "value") else p.kind: p.id for p in listed.latest_version.plans}
    return {
        "seller_token": factories.api_token(session, seller), "buyer_token": factories.api_token(session, buyer),
        "admin_token": factories.api_token(session, admin),
        "seller_org": seller.memberships[0].organization.slug, "buyer_org": buyer.memberships[0].organization.slug,
        "product_id": listed.id, "draft_product_id": draft.id, "plan_id": plans["one_time"],
        "free_plan_id": plans["free"], "case_id": round_.case.id,
    }


class ContractServer:
    """The testing config (rate limits off) over ``database_url``, served by werkzeug on 127.0.0.1."""

    def __init__(self, tmp: Path, database_url: str) -> None:
        self.app = create_app(
            "testing", SQLALCHEMY_DATABASE_URI=database_url, STORAGE_LOCAL_ROOT=str(tmp / "storage"),
            LICENCE_SIGNING_KEY_FILE=str(tmp / "licence-signing-key.pem"), SERVER_NAME=None,
        )
        with self.app.app_context():
            upgrade()
            ids = _seed(self.app)
            db.session.remove()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.seeded = self._orders(ids)

    def _orders(self, ids: dict) -> Seeded:
        # Orders through the API itself: a free licence the buyer holds and a paid order still open.
        http = requests.Session()
        http.trust_env = False
        http.headers["Authorization"] = f"Bearer {ids['buyer_token']}"
        made = {}
        for name, plan in (("free", ids["free_plan_id"]), ("paid", ids["plan_id"])):
            resp = http.post(f"{self.url}/api/v1/orders", json={
                "plan_id": plan, "organization": ids["buyer_org"], "scenario": SCENARIO, "accept_terms": True})
            assert resp.status_code == 201, resp.text
            made[name] = resp.json()
        held = http.get(f"{self.url}/api/v1/licences/held").json()
        http.close()
        return Seeded(**ids, order_id=made["paid"]["id"], licence_id=held[0]["id"])

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
        with self.app.app_context():
            db.engine.dispose()
