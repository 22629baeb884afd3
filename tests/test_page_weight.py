"""Every role's main pages on the demo catalog weigh under 150 KB of HTML before compression. The API docs page is
exempt from that rule, not from sense: the page itself is small, the OpenAPI document is fetched apart, and it
loads only the Swagger UI files it uses."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from marketplace.demo import load_demo
from marketplace.demo_catalog import ACCOUNTS

LIMIT = 150 * 1024
PASSWORDS = {account["email"]: account["password"] for account in ACCOUNTS}


@pytest.fixture
def demo(session, storage):
    load_demo(session, storage)
    session.commit()


class Weighing:
    def __init__(self, client, auth):
        self.client, self.auth = client, auth
        self.weights: dict[str, int] = {}

    def as_(self, email: str | None) -> None:
        self.auth.logout()
        if email:
            self.auth.login(email, PASSWORDS[email])

    def visit(self, role: str, *paths: str, language: str | None = None) -> None:
        headers = {"Accept-Language": language} if language else {}
        for path in paths:
            response = self.client.get(path, headers=headers, follow_redirects=True)  # a home may be a redirect
            assert response.status_code == 200, f"{role} {path}: {response.status_code}"
            assert response.mimetype == "text/html", path
            if language:
                assert f'<html lang="{language}">' in response.get_data(as_text=True), path
            self.weights[f"{role} {path} {language or ''}".rstrip()] = len(response.data)

    def links(self, path: str, pattern: str) -> list[str]:
        html = self.client.get(path).get_data(as_text=True)
        return sorted(set(re.findall(rf'href="({pattern})"', html)))


def test_every_roles_main_pages_weigh_under_150_kb(demo, session, client, auth):
    from marketplace.accounts.models import Organization
    from marketplace.listings.models import DataProduct
    from marketplace.review.models import ReviewCase

    weighing = Weighing(client, auth)
    listed = session.scalars(select(DataProduct).where(DataProduct.listed_version_id.is_not(None))).all()
    # Every listed product page: the one with the biggest preview among them.
    weighing.visit("visitor", "/", "/catalog", "/catalog?sort=newest", "/login", "/signup",
                   *(f"/products/{product.slug}" for product in listed))
    # Chinese takes three bytes a character: the visitor's pages again in Traditional Chinese.
    weighing.visit("visitor", "/catalog", *(f"/products/{product.slug}" for product in listed), language="zh-Hant-HK")

    weighing.as_("buyer@demo.exchange")
    weighing.visit("buyer", "/catalog", "/licences", "/orders", "/notifications/", "/organizations", "/settings")
    weighing.visit("buyer", *weighing.links("/licences", r"/licences/\d+"), *weighing.links("/orders", r"/orders/\d+"))

    weighing.as_("seller@demo.exchange")
    org = session.scalar(select(Organization).where(Organization.slug.like("harbourline%")))
    weighing.visit("seller", "/seller/", f"/seller/{org.slug}/sales", f"/seller/{org.slug}/requests",
                   "/notifications/")
    for product in session.scalars(select(DataProduct).where(DataProduct.organization_id == org.id)):
        latest = max(product.versions, key=lambda version: version.number)
        version = f"/seller/products/{product.id}/versions/{latest.number}"
        # The editor's step pages where the version may still be edited (the links the page gives).
        weighing.visit("seller", f"/seller/products/{product.id}", version, *weighing.links(
            version, rf"{version}/(?:details|sources|files|dictionary|plans|compliance)|{version}/plans/\d+/edit"))

    weighing.as_("reviewer@demo.exchange")
    weighing.visit("reviewer", "/review/", "/review/?status=decided", "/notifications/",
                   *(f"/review/cases/{case.id}" for case in session.scalars(select(ReviewCase))),
                   *(f"/review/products/{product.id}" for product in listed[:5]))

    weighing.as_("admin@demo.exchange")
    weighing.visit("admin", "/admin/", "/admin/products", "/admin/audit", "/admin/jobs", "/admin/orders",
                   "/admin/payments/anomalies", "/review/", "/notifications/")

    assert len(weighing.weights) > 60 and any(page.endswith("/sources") for page in weighing.weights)
    heavy = {page: weight for page, weight in weighing.weights.items() if weight >= LIMIT}
    heaviest = sorted(weighing.weights.items(), key=lambda item: -item[1])[:5]
    assert not heavy, f"pages of 150 KB or more: {heavy}; the heaviest: {heaviest}"


def test_the_api_docs_page_is_small_and_fetches_its_document_apart(client):
    response = client.get("/api/v1/docs")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and len(response.data) < 4 * 1024
    assert 'data-spec-url="/api/v1/openapi.json"' in html and '"paths"' not in html
    assert "standalone-preset" not in html  # 312 KB that no setting of ours uses

    loaded = re.findall(r'(?:src|href)="(/api/v1/docs/static/[^"]+)"', html)
    assert sorted(name.rsplit("/", 1)[1] for name in loaded) == ["swagger-ui-bundle.js", "swagger-ui.css"]
    raw = sum(len(client.get(path).get_data()) for path in loaded)
    sent = sum(len(client.get(path, headers={"Accept-Encoding": "gzip, br"}).get_data()) for path in loaded)
    assert raw < 1_300_000 and sent < raw / 3, (raw, sent)
