"""Per-domain factories: build valid objects through the real services."""
from __future__ import annotations

import io
import itertools
from pathlib import Path

from marketplace.accounts import services as accounts
from marketplace.accounts.models import PlatformRole, User
from marketplace.listings import services as listings
from marketplace.listings.assets import upload_asset
from marketplace.listings.filetypes import EXTENSIONS
from marketplace.listings.models import DataProduct, ProductVersion
from marketplace.listings.vocab import DataFormat

PASSWORD = "correct horse battery"
SAMPLES = Path(__file__).resolve().parent.parent / "marketplace" / "data" / "samples"
_seq = itertools.count(1)


# ---------------------------------------------------------------- accounts

def user(session, *, email: str | None = None, password: str = PASSWORD, organization: str | None = None,
         role: PlatformRole = PlatformRole.NONE, name: str = "Test User", verified: bool = True) -> User:
    """A user made by sign-up; ``verified`` (the default) as if they had followed the e-mail's link."""
    email = email or f"user{next(_seq)}@example.org"
    u = accounts.register_user(session, email=email, password=password, display_name=name,
                               organization_name=organization, platform_role=role, email_verified=verified)
    session.flush()
    return u


def api_token(session, u: User, name: str = "tests") -> str:
    _, secret = accounts.create_api_token(session, u, name)
    session.commit()
    return secret


class TokenClient:
    """A Flask test client that sends ``Authorization: Bearer <token>`` on every call."""

    def __init__(self, client, token: str):
        self.client, self.token = client, token

    def _call(self, method: str, url: str, **kwargs):
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return getattr(self.client, method)(url, headers=headers, **kwargs)

    def get(self, url, **kw): return self._call("get", url, **kw)
    def post(self, url, **kw): return self._call("post", url, **kw)
    def put(self, url, **kw): return self._call("put", url, **kw)
    def patch(self, url, **kw): return self._call("patch", url, **kw)
    def delete(self, url, **kw): return self._call("delete", url, **kw)


# ---------------------------------------------------------------- listings

def product(session, u: User, *, title: str | None = None, **data) -> DataProduct:
    org = u.memberships[0].organization
    p = listings.create_product(session, u, org, {"title_en": title or f"Product {next(_seq)}", **data})
    session.flush()
    return p


SOURCE = {
    "portal": "data_gov_hk", "title": "Traffic Data of Strategic / Major Roads",
    "url": "https://data.gov.hk/en-data/dataset/hk-td-sm_4-traffic-data-strategic-major-roads",
    "publisher": "Transport Department", "licence_id": "LicenseRef-DATA.GOV.HK-Terms",
    "attribution": "Source: DATA.GOV.HK (Transport Department)",
}

PLAN = {
    "name": "Research licence", "kind": "one_time", "amount": 120000, "currency": "HKD",
    "permitted_uses": ["research", "internal_analysis"], "prohibitions": ["resale", "reidentification"],
    "territory": "hong_kong", "duration_days": 365, "attribution_required": True, "derivatives_allowed": True,
}

COMPLIANCE = {
    "personal_info": "none", "classification": "general", "source_legality": "Public DATA.GOV.HK data.",
    "cross_border_transfer": False, "legal_basis": "Open data terms of use",
}


def upload(session, storage, u: User, version: ProductVersion, *, kind: str, filename: str, data: bytes,
           max_bytes: int = 1_000_000):
    """Upload ``data`` as ``filename``, first adding its format to the version's declared formats (an upload of
    a format the product does not declare is refused)."""
    ext = Path(filename).suffix.lower()
    declared = version.formats or []
    if declared and not any(ext in EXTENSIONS[DataFormat(f)] for f in declared):
        fmt = next(f for f, names in EXTENSIONS.items() if ext in names)
        listings.update_metadata(session, u, version, {"formats": [*declared, fmt.value]})
    return upload_asset(session, storage, u, version, kind=kind, filename=filename, stream=io.BytesIO(data),
                        content_type=None, max_bytes=max_bytes)


def complete_version(session, storage, u: User, version: ProductVersion) -> ProductVersion:
    """Fill every part a version needs before it can be submitted."""
    listings.update_metadata(session, u, version, {
        "title_zh": "香港交通数据", "description_en": "Hourly **speeds** on strategic roads.",
        "description_zh": "策略性道路车速。", "category": "transport", "regions": ["hong_kong"],
        "update_frequency": "hourly", "delivery_methods": ["file"], "formats": ["CSV"],
        "tags": ["traffic", "交通"],
    })
    listings.add_source(session, u, version, SOURCE)
    listings.replace_dictionary(session, u, version, [
        {"name": "AID_ID_Number", "type": "string", "description": "Detector id"},
        {"name": "Latitude", "type": "number", "unit": "degree"},
    ])
    for kind in ("sample", "deliverable"):
        upload_asset(session, storage, u, version, kind=kind, filename="detectors.csv",
                     stream=io.BytesIO(b"AID_ID_Number,Latitude\nAID01101,22.3\n"), content_type="text/csv",
                     max_bytes=10_000)
    listings.add_plan(session, u, version, PLAN)
    listings.set_compliance(session, u, version, COMPLIANCE, attest=True, attested_by_name="Ada Seller")
    session.flush()
    return version


# ---------------------------------------------------------------- review

ALL_PASS = {item: {"result": "pass", "comment": "Checked."} for item in (
    "source_legality", "personal_information", "classification", "cross_border", "licence_terms", "quality")}


def submit(session, seller: User, version, storage, **kwargs):
    """Submit ``version`` for review and commit: the pre-screen job runs after the commit (at once in tests)."""
    from marketplace.review import services as review

    round_ = review.submit_version(session, seller, version, storage, **kwargs)
    session.commit()
    return round_


def listed_product(session, storage, seller: User, reviewer: User, *, title: str | None = None,
                   plans: list[dict] | None = None, **metadata) -> DataProduct:
    """A complete product taken through the real review path: submitted, claimed, approved, listed.
    ``plans`` are offered besides the factory's one-time HKD plan; ``metadata`` overrides the version's."""
    from marketplace.review import services as review

    p = product(session, seller, title=title)
    version = complete_version(session, storage, seller, p.latest_version)
    if metadata:
        listings.update_metadata(session, seller, version, metadata)
    for extra in plans or []:
        listings.add_plan(session, seller, version, {**PLAN, **extra})
    round_ = submit(session, seller, version, storage)
    review.claim_case(session, reviewer, round_.case)
    review.approve_version(session, reviewer, round_.case, answers=ALL_PASS)
    session.flush()
    return p
