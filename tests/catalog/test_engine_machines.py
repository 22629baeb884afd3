"""Two machines over one PostgreSQL agree on search: two ``gunicorn wsgi:app`` servers (two workers each) on one
database, both searching the embedded engine (``SEARCH_ENGINE=tantivy``), each with an index folder of its own.
A platform admin's move or a reviewer's approval made over HTTP on one machine is answered by the other at its
very next request, as the database itself answers it: the same products for the words, the same totals, the
same facet counts, on the catalog page and in the JSON API.

Machines share a database server, never a file: under TEST_DB=postgresql the module takes a database of its own
in the suite's cluster; otherwise it starts a throwaway PostgreSQL cluster of its own (as tests/test_outages.py
does), so a plain `make test` runs it too.
"""
from __future__ import annotations

import html
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from marketplace.accounts.models import PlatformRole
from marketplace.catalog.search import SearchQuery, database_search
from tests import factories
from tests.support.databases import own_postgresql_database
from tests.support.gunicorn import Gunicorn
from tests.support.races import in_app, racing_market
from tests.support.report import report

pytestmark = pytest.mark.no_transaction

ADMIN, SELLER, REVIEWER = "machines-admin@example.org", "machines-seller@example.org", "machines-reviewer@example.org"
# Products an admin suspends and reinstates in turn: (the word only its title has, title, category, region).
ROUND = [
    ("kestrel", "Kestrel Nesting Survey", "environment", "hong_kong"),
    ("mangrove", "Mangrove Salinity Readings", "environment", "shanghai"),
    ("funicular", "Funicular Ridership", "transport", "hong_kong"),
    ("lantern", "Lantern Festival Footfall", "population", "hong_kong"),
    ("quarry", "Quarry Dust Monitoring", "environment", "cross_city"),
]
RENAMED = ("Pier Queue Lengths", "city_management")  # its next version: Star Ferry Sailings, transport
MOORINGS = ("Typhoon Shelter Moorings", "weather")  # moved on the second machine
FILTERS = [{}, {"category": ("transport", "environment")}, {"seller": ("machines-data-co",)}]


# ---------------------------------------------------------------- one database, two machines


@pytest.fixture(scope="module")
def shared_database(database_url, tmp_path_factory):
    """The PostgreSQL database both machines use."""
    with own_postgresql_database(database_url, tmp_path_factory.mktemp("machines-db"), "machines") as url:
        yield url


@pytest.fixture(scope="module")
def market(shared_database, tmp_path_factory):
    """The catalog, listed through the real review path: the ROUND products, the product to be renamed and the one
    moved on the second machine from one seller, two more from another; an admin, a reviewer and the seller's
    and reviewer's API tokens."""
    def build(app, session) -> dict:
        storage = app.extensions["storage"]
        seller = factories.user(session, email=SELLER, organization="Machines Data Co", name="Ada Seller")
        other = factories.user(session, organization="Pudong Data Studio")
        reviewer = factories.user(session, email=REVIEWER, role=PlatformRole.REVIEWER)
        factories.user(session, email=ADMIN, role=PlatformRole.ADMIN)

        def listed(owner, title, category, region="hong_kong"):
            return factories.listed_product(session, storage, owner, reviewer, title=title, category=category,
                                            regions=[region], tags=[])

        products = {word: listed(seller if n % 2 else other, title, category, region)
                    for n, (word, title, category, region) in enumerate(ROUND)}
        products["queue"] = listed(seller, *RENAMED)
        products["moorings"] = listed(seller, *MOORINGS)
        listed(other, "Tram Route Speeds", "transport")
        listed(other, "Solar Farm Output", "energy", "shanghai")
        return {"products": {word: (p.id, p.slug) for word, p in products.items()},
                "seller_token": factories.api_token(session, seller),
                "reviewer_token": factories.api_token(session, reviewer)}

    with racing_market(shared_database, tmp_path_factory.mktemp("machines-market"), build) as values:
        yield values


@pytest.fixture(scope="module")
def machines(market, shared_database, tmp_path_factory):
    """Two machines serving the market: the same database, the same storage (as an object store would be shared)
    and the same secret key (as behind one load balancer), each its own instance folder and search index. Each is
    warmed by one search, which builds its index."""
    secret = secrets.token_urlsafe(48)
    servers = []
    for name in ("machine-1", "machine-2"):
        folder = tmp_path_factory.mktemp(name)
        server = Gunicorn(folder, {
            "DATABASE_URL": shared_database, "MARKETPLACE_INSTANCE_DIR": str(folder), "SECRET_KEY": secret,
            "STORAGE_LOCAL_ROOT": str(market["folder"] / "storage"), "RATELIMIT_ENABLED": "0",
            "SEARCH_ENGINE": "tantivy", "SEARCH_INDEX_DIR": str(folder / "catalog-index"),
            "JOBS_IMMEDIATE": "1",  # a submitted version's pre-screen runs in the request, so it can be approved
        })
        server.env["PUBLIC_BASE_URL"] = server.base
        servers.append(server)
    try:
        for server in servers:
            server.start()
        found = [Machine(server.base).api("") for server in servers]
        assert found[0] == found[1] == truth(market, "") and found[0]["total"] == len(market["products"]) + 2
        for server in servers:  # each machine built an index of its own
            assert any((server.folder / "catalog-index").iterdir())
        yield [Machine(server.base) for server in servers]
    finally:
        for server in servers:
            if server.process is not None:
                server.stop()


# ---------------------------------------------------------------- what a machine, and the database, answer


class Machine:
    """A browser of one machine: the catalog's answers read from its page and its API, and the moves of a user
    signed in through the log-in form."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.http.trust_env = False  # loopback only, never through a proxy

    def _get(self, path: str, **kwargs) -> requests.Response:
        answer = self.http.get(f"{self.base}{path}", timeout=30, **kwargs)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:500])
        return answer

    def api(self, q: str, filters: dict | None = None) -> dict:
        params = [("q", q), ("per_page", 100), *((f, v) for f, values in (filters or {}).items() for v in values)]
        body = self._get("/api/v1/catalog", params=params).json()
        return answer_of(body["total"], [item["slug"] for item in body["items"]], body["fuzzy"],
                         {f: {v["value"]: v["count"] for v in values} for f, values in body["facets"].items()})

    def page(self, q: str) -> dict:
        """The catalog page's answer: its count, the products' links, the facet counts it shows, whether it says
        these are close matches."""
        text = self._get("/catalog", params={"q": q}).text
        total = re.search(r'<div class="catalog-toolbar">\s*<p><strong>([\d,]+)</strong>', text).group(1)
        facets: dict[str, dict[str, int]] = {}
        for facet, value, count in re.findall(r'<input type="checkbox" name="(\w+)" value="([^"]*)"[^>]*>\s*'
                                              r'<span>[^<]*</span> <span class="count">([\d,]+)</span>', text):
            facets.setdefault(facet, {})[html.unescape(value)] = int(count.replace(",", ""))
        return answer_of(int(total.replace(",", "")), re.findall(r'<h2 class="h3"><a href="/products/([^"]+)"', text),
                         "showing close matches" in text, facets)

    def log_in(self, email: str) -> Machine:
        answer = self.http.post(f"{self.base}/login", data={"csrf_token": self._csrf("/login"), "email": email,
                                                            "password": factories.PASSWORD}, allow_redirects=False)
        assert answer.status_code == 302, answer.text[:500]
        return self

    def _csrf(self, path: str) -> str:
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', self._get(path).text).group(1)

    def move(self, product_id: int, action: str) -> None:
        """A platform admin's move of a product, from the admin's products pages, with a reason."""
        answer = self.moving(product_id, action)()
        assert answer == 302, answer

    def moving(self, product_id: int, action: str) -> Callable[[], int]:
        """The move's form, read and filled in: sending it answers its status (302 when made)."""
        path = f"/admin/products/{product_id}/{action}"
        form = {"csrf_token": self._csrf(path), "reason": f"Checked on {self.base}: {action}."}
        if action == "delist":
            form["confirm_final"] = "y"
        return lambda: self.http.post(f"{self.base}{path}", data=form, allow_redirects=False, timeout=60).status_code

    def call(self, token: str, method: str, path: str, json: dict | None = None, status: int = 200) -> dict:
        answer = self.http.request(method, f"{self.base}/api/v1{path}", json=json, timeout=60,
                                   headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == status, (path, answer.status_code, answer.text[:1000])
        return answer.json()


def answer_of(total: int, slugs, fuzzy: bool, facets: dict) -> dict:
    """A search's answer as compared: facets without values are left out (the page shows none of them)."""
    return {"total": total, "slugs": sorted(slugs), "fuzzy": fuzzy,
            "facets": {f: counts for f, counts in facets.items() if counts}}


def truth(market, q: str, filters: dict | None = None) -> dict:
    """What the database answers, searched as SEARCH_ENGINE=database does."""
    def ask(session):
        found = database_search(session, SearchQuery(q=q, filters=filters or {}, per_page=100))
        return answer_of(found.total, [e.slug for e in found.items], found.fuzzy,
                         {f: {v.value: v.count for v in values} for f, values in found.facets.items()})

    return in_app(market["app"], ask)


def same(answer: dict, database: dict) -> bool:
    """The same answer, or both without exact matches: close matches are each search's own (the database's are
    shared trigrams, the engine's words within an edit or two), so only their absence of exact matches is
    compared."""
    if answer["fuzzy"] or database["fuzzy"]:
        return all(a["fuzzy"] or a["total"] == 0 for a in (answer, database))
    return answer == database


def agreement(market, origin: Machine, other: Machine, word: str, slug: str, listed: bool) -> list[str]:
    """Asked right after a change on ``origin``: what ``other`` answered differently from the database, from
    ``origin``, or from whether the product is ``listed`` (nothing: they agree). The word first, on the API, so
    that the other machine's very next request is a search for the changed product."""
    problems = []
    for filters in FILTERS:
        for q in (word, ""):
            there, here, database = other.api(q, filters), origin.api(q, filters), truth(market, q, filters)
            if not same(there, database):
                problems.append(f"{other.base} q={q!r} {filters}: {there} but the database: {database}")
            if not same(here, database):
                problems.append(f"{origin.base} q={q!r} {filters}: {here} but the database: {database}")
            if not filters and q and (slug in there["slugs"]) != listed:
                problems.append(f"{other.base} q={q!r}: {slug} {'missing' if listed else 'still found'}")
    for q in (word, ""):
        page, api = other.page(q), other.api(q)
        if page != api:
            problems.append(f"{other.base} page q={q!r}: {page} but its API: {api}")
    return problems


def tally(outcomes: Counter, problems: list[str], change: str, found: list[str]) -> None:
    """Count a change as seen at once on the other machine, or not (keeping what differed)."""
    outcomes["seen at once" if not found else "not seen"] += 1
    problems.extend(f"after {change}: {problem}" for problem in found)


# ---------------------------------------------------------------- the tests


def test_admin_moves_on_one_machine_are_seen_on_the_other_at_its_next_request(market, machines):
    """Five products suspended one after another on the first machine, then reinstated: after each move the
    second machine's next search leaves the product out (or finds it again), with the database's counts."""
    first, second = machines
    admin = Machine(first.base).log_in(ADMIN)
    outcomes, problems, started = Counter(), [], time.monotonic()
    for action, listed in (("suspend", False), ("reinstate", True)):
        for word, *_ in ROUND:
            product_id, slug = market["products"][word]
            admin.move(product_id, action)
            tally(outcomes, problems, f"{action} {word}", agreement(market, first, second, word, slug, listed))
    report(f"two machines, admin moves on one: {outcomes['seen at once']}/{sum(outcomes.values())} seen at once "
           f"on the other ({time.monotonic() - started:.1f} s)")
    assert not problems, "\n".join(problems)
    assert outcomes == {"seen at once": 2 * len(ROUND)}


def test_a_new_version_approved_on_one_machine_is_found_by_its_new_words_on_the_other(market, machines):
    """The seller opens a new version that renames the product and changes its category, and submits it; a
    reviewer approves it (the JSON API, on the first machine). While it is in review the second machine still
    finds the listed version; once approved, its new words in English and Chinese, not its old ones."""
    first, second = machines
    product_id, slug = market["products"]["queue"]
    seller, reviewer = market["seller_token"], market["reviewer_token"]
    version = f"/products/{product_id}/versions"
    number = first.call(seller, "POST", version, {"label": "2.0", "changelog": "Renamed after the pier."},
                        status=201)["number"]
    first.call(seller, "PATCH", f"{version}/{number}", {"title_en": "Star Ferry Sailings", "title_zh": "天星小輪航班",
                                                        "category": "transport"})
    first.call(seller, "PUT", f"{version}/{number}/compliance",
               {**factories.COMPLIANCE, "attest": True, "attested_by_name": "Ada Seller"})
    first.call(seller, "POST", f"{version}/{number}/submit")
    outcomes, problems = Counter(), []
    tally(outcomes, problems, "submitted", agreement(market, first, second, "queue", slug, listed=True)
          + agreement(market, first, second, "sailings", slug, listed=False))

    case = next(c for c in first.call(reviewer, "GET", "/review/cases")["items"] if c["product_id"] == product_id)
    first.call(reviewer, "POST", f"/review/cases/{case['id']}/claim")
    decided = first.call(reviewer, "POST", f"/review/cases/{case['id']}/decision",
                         {"decision": "approve", "comment": "Clean.", "answers": factories.ALL_PASS})
    assert decided["status"] == "listed"
    tally(outcomes, problems, "approved", agreement(market, first, second, "sailings", slug, listed=True)
          + agreement(market, first, second, "小轮", slug, listed=True)  # Simplified finds the Traditional title
          + agreement(market, first, second, "queue", slug, listed=False))
    assert not problems, "\n".join(problems)
    assert outcomes == {"seen at once": 2}
    assert second.api("", {"category": ("city_management",)})["total"] == 0


def test_moves_on_the_second_machine_are_seen_on_the_first(market, machines):
    first, second = machines
    admin = Machine(second.base).log_in(ADMIN)
    product_id, slug = market["products"]["moorings"]
    outcomes, problems = Counter(), []
    for action, listed in (("suspend", False), ("reinstate", True), ("delist", False)):
        admin.move(product_id, action)
        tally(outcomes, problems, action, agreement(market, second, first, "moorings", slug, listed))
    assert not problems, "\n".join(problems)
    assert outcomes == {"seen at once": 3}


def _at_once(calls: list[tuple[str, Callable[[], int]]]) -> Counter:
    """Run every ``(kind, call)`` on a thread of its own, released together; count the (kind, status) answered."""
    start = threading.Barrier(len(calls))

    def run(call) -> tuple[str, int]:
        start.wait()
        return call[0], call[1]()

    with ThreadPoolExecutor(len(calls)) as pool:
        return Counter(pool.map(run, calls))


def _searching(base: str, word: str) -> Callable[[], int]:
    buyer = Machine(base)
    return lambda: buyer.http.get(f"{base}/api/v1/catalog", params={"q": word}, timeout=60).status_code


def test_moves_racing_on_both_machines_while_buyers_search_leave_both_agreeing(market, machines):
    """The five ROUND products suspended at the same moment, some through each machine, while buyers search for
    each on both machines; then reinstated the same way. Every move is made, every search answered, and then
    each machine answers as the database does: the log hands out its changes in commit order, so no machine
    that searched between two commits misses the earlier one."""
    answered, problems = Counter(), []
    for action, listed in (("suspend", False), ("reinstate", True)):
        calls = [("move", Machine(machines[n % 2].base).log_in(ADMIN).moving(market["products"][word][0], action))
                 for n, (word, *_) in enumerate(ROUND)]
        calls += [("search", _searching(machine.base, word)) for machine in machines for word, *_ in ROUND]
        answered += _at_once(calls)
        for machine in machines:
            for q, filters in [*((word, {}) for word, *_ in ROUND), *(("", filters) for filters in FILTERS)]:
                found, database = machine.api(q, filters), truth(market, q, filters)
                if not same(found, database):
                    problems.append(f"after {action}: {machine.base} q={q!r} {filters}: {found} but {database}")
                if q and (market["products"][q][1] in found["slugs"]) != listed:
                    problems.append(f"after {action}: {machine.base} q={q!r}: {found}")
    assert not problems, "\n".join(problems)
    assert answered == {("move", 302): 2 * len(ROUND), ("search", 200): 2 * 2 * len(ROUND)}
