"""Licence certificates: a statement of what was licensed, signed with the marketplace's Ed25519 key.

The signed form of a statement is its canonical JSON (``canonical_bytes``): keys sorted, no insignificant
whitespace, UTF-8 without escaping. The statement holds only strings, integers (money in minor units), booleans,
null, lists and objects, never floats, so that every JSON implementation reproduces the same bytes. A
certificate document (the JSON download) is ``{"certificate": statement, "signature": {"alg": "EdDSA", "kid",
"value"}}``; anyone can check it offline against the public keys published at ``/.well-known/licence-keys.json``
(a JWKS) with ``verify_document``. Whitespace and key order in a document do not matter; any change of content
(a character of a value or a name, a field added or removed) does.

The key is the platform's (``marketplace.signing``): the current key signs, and keys retired by a rotation stay
published with their ``retired_at``, so a certificate verifies under the key named by its ``kid`` for as long as
the platform exists, provided it was issued before that key's retirement (a retired key may leak; what it signs
afterwards is refused). Online (``check_certificate``) a valid document must also be the certificate on record
under its serial; offline (``verify_document``) only the signature and the retirement rule can be checked.
"""
from __future__ import annotations

import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from urllib.parse import quote

from cryptography.exceptions import InvalidSignature
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from marketplace.accounts.models import Organization
from marketplace.assessments.models import Assessment
from marketplace.assessments.reports import REPORT_TYPE, REPORT_VERSION, report_document
from marketplace.assessments.reports import standing as report_standing
from marketplace.assessments.states import REPORT_STATES
from marketplace.catalog.dcat import CC, EU, NAME, ODRL, PROHIBITED_ACTIONS, TERRITORY_PLACES
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.licensing.models import Licence, Voucher
from marketplace.licensing.scenario import Purpose, Sector
from marketplace.licensing.states import LicenceStatus
from marketplace.listings.forms import minor_to_decimal
from marketplace.listings.models import Asset, DataProduct, LicenceTerms, PricingPlan, ProductVersion
from marketplace.listings.vocab import AssetKind, PlanKind, Territory
from marketplace.review import registration
from marketplace.review.notice_models import RegistrationCertificate

# KEYS_PATH, Signer and signer_for stay importable from here for the certificate's readers.
from marketplace.signing.keys import (  # noqa: F401
    ALGORITHM,
    KEYS_PATH,
    PublishedKey,
    Signer,
    b64url_decode,
    canonical_bytes,
    public_keys,
    signer_for,
    trusted_keys,
)
from marketplace.signing.services import current_signer, known_keys

STATEMENT_TYPE = "DataLicenceCertificate"
STATEMENT_VERSION = 1
VOUCHER_TYPE = "TransactionVoucher"
VOUCHER_VERSION = 1
# A signed document names what it holds twice: its outer field, and the ``type`` inside the signed statement. Both
# must agree, so a voucher never passes for a certificate nor the reverse.
DOCUMENT_KINDS = {"certificate": (STATEMENT_TYPE, STATEMENT_VERSION), "voucher": (VOUCHER_TYPE, VOUCHER_VERSION),
                  "assessment": (REPORT_TYPE, REPORT_VERSION),
                  "registration": (registration.STATEMENT_TYPE, registration.STATEMENT_VERSION)}
# A certificate names a few dozen files at most; a document much larger than this is not one.
MAX_DOCUMENT_BYTES = 512 * 1024
ODRL_CONTEXT = "http://www.w3.org/ns/odrl.jsonld"
COVERAGE = {
    "named": "The versions named.",
    "subscription": "The versions named, and versions listed while the licence is active.",
}
# The signed statement is in English; its page says the same in the reader's language.
COVERAGE_WORDS = {
    "named": _l("The versions named."),
    "subscription": _l("The versions named, and versions listed while the licence is active."),
}


# ---------------------------------------------------------------- the statement


def iso_utc(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC to the second ("2025-03-01T08:00:00Z"), or None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def base_url() -> str:
    return str(current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")


def certificate_url(serial: str, base: str | None = None) -> str:
    return f"{base if base is not None else base_url()}/certificates/{quote(serial)}"


def _party(org: Organization) -> dict:
    return {"id": org.id, "slug": org.slug, "name": org.name}


def build_statement(licence: Licence, session: Session | None = None) -> dict:
    """What the certificate states about a licence: parties, product, order, the versions covered with the
    SHA-256 of each deliverable file, the frozen terms and scenario, and the validity. Six queries."""
    session = session or object_session(licence) or db.session
    base = base_url()
    orgs = {o.id: o for o in session.scalars(select(Organization).where(
        Organization.id.in_({licence.buyer_organization_id, licence.seller_organization_id})))}
    product = session.get(DataProduct, licence.product_id)
    order = licence.order
    plan = session.get(PricingPlan, licence.plan_id)
    versions = list(session.scalars(select(ProductVersion).where(ProductVersion.id.in_(licence.version_ids))
                                    .order_by(ProductVersion.number)))
    files: dict[int, list[dict]] = {v.id: [] for v in versions}
    for asset in session.scalars(select(Asset).where(Asset.version_id.in_(files), Asset.kind == AssetKind.DELIVERABLE)
                                 .order_by(Asset.version_id, Asset.filename, Asset.id)):
        files[asset.version_id].append({"filename": asset.filename, "size": asset.size, "sha256": asset.sha256})
    kind = str(licence.plan_kind)
    return {
        "type": STATEMENT_TYPE,
        "version": STATEMENT_VERSION,
        "serial": licence.serial,
        "url": certificate_url(licence.serial, base),
        "issued_at": iso_utc(licence.created_at or utcnow()),
        "issuer": {"name": NAME["en"], "url": base},
        "licensor": _party(orgs[licence.seller_organization_id]),
        "licensee": _party(orgs[licence.buyer_organization_id]),
        "product": {"id": product.id, "slug": product.slug, "title": versions[-1].title_en if versions else "",
                    "url": f"{base}/products/{quote(product.slug)}"},
        "plan": {"name": plan.name, "kind": kind,
                 "billing_period": str(plan.billing_period) if plan.billing_period else None},
        "order": {"number": order.number, "amount": int(order.amount), "currency": str(order.currency)},
        "versions": [{"number": v.number, "label": v.label, "files": files[v.id]} for v in versions],
        "coverage": COVERAGE["subscription" if kind == PlanKind.SUBSCRIPTION else "named"],
        "terms": licence.terms,
        "scenario": licence.scenario,
        "valid_from": iso_utc(licence.valid_from),
        "valid_until": iso_utc(licence.valid_until),
    }


def sign_licence(session: Session, licence: Licence) -> None:
    """Build the licence's statement and sign it: sets ``statement``, ``signature`` and ``key_id``. Called once,
    when the licence is issued (flushed, with its serial, order, versions and dates set)."""
    signer = current_signer(session, current_app)
    statement = build_statement(licence, session)
    licence.statement = statement
    licence.signature = signer.sign(canonical_bytes(statement))
    licence.key_id = signer.key_id


def certificate_document(licence: Licence) -> dict:
    """The certificate as downloaded: the signed statement and its signature."""
    return {"certificate": licence.statement,
            "signature": {"alg": ALGORITHM, "kid": licence.key_id, "value": licence.signature}}


def voucher_document(voucher: Voucher) -> dict:
    """The transaction voucher as downloaded: the signed statement and its signature."""
    return {"voucher": voucher.statement,
            "signature": {"alg": ALGORITHM, "kid": voucher.key_id, "value": voucher.signature}}


def current_status(licence: Licence, when: datetime | None = None) -> LicenceStatus:
    """The licence's status as of now: its recorded status, except that an active licence whose period has ended
    reads as expired (the command that records expiry may not have run yet)."""
    status = LicenceStatus(licence.status)
    when = when or utcnow()
    if status is LicenceStatus.ACTIVE and licence.valid_until is not None and when >= licence.valid_until:
        return LicenceStatus.EXPIRED
    return status


def terms_in_words(terms: Mapping, kind: str | None = None, billing_period: str | None = None) -> list[str]:
    """Frozen licence terms as the plain sentences the catalog uses for a plan's terms."""
    from marketplace.listings.view_helpers import licence_terms_words

    fields = LicenceTerms.__dataclass_fields__
    frozen = LicenceTerms(**{k: v for k, v in terms.items() if k in fields})
    return licence_terms_words(frozen, kind, billing_period)


def _scenario_values(scenario: Mapping, english: bool = False) -> tuple[str, str, str, str, str]:
    def label(enum_cls, value) -> str:
        try:
            member = enum_cls(value)
        except ValueError:
            return str(value)
        return member.label_en if english else member.label

    users = scenario.get("expected_users")
    return (label(Purpose, scenario.get("purpose")), label(Sector, scenario.get("sector")),
            label(Territory, scenario.get("territory")), f"{users:,}" if isinstance(users, int) else str(users),
            str(scenario.get("description") or ""))


def scenario_in_words(scenario: Mapping) -> dict[str, str]:
    """The declared scenario with its values labelled, in the reader's language (the buyer's description as
    written)."""
    purpose, sector, territory, users, description = _scenario_values(scenario)
    return {_("Purpose"): purpose, _("Sector"): sector, _("Territory of use"): territory,
            _("Expected users"): users, _("Description"): description}


def statement_in_words(statement: Mapping) -> dict[str, str]:
    """What the certificate page says of the signed statement's English parts, in the reader's language: the
    issuer, the coverage and the plan's kind."""
    coverage = next((str(COVERAGE_WORDS[k]) for k, text in COVERAGE.items() if text == statement.get("coverage")),
                    str(statement.get("coverage") or ""))
    issuer = statement.get("issuer", {}).get("name", "")
    kind = (statement.get("plan") or {}).get("kind")
    try:
        kind_words = PlanKind(kind).label
    except ValueError:
        kind_words = str(kind or "")
    return {"coverage": coverage, "issuer_name": _("Open Data Exchange") if issuer == NAME["en"] else issuer,
            "plan_kind": kind_words}


# ---------------------------------------------------------------- verification


@dataclass(frozen=True)
class Verification:
    """The outcome of checking a certificate document; ``malformed`` when it is not a certificate document at all."""

    valid: bool
    reason: str
    serial: str | None = None
    kid: str | None = None
    malformed: bool = False
    kind: str = "certificate"  # a DOCUMENT_KINDS name: "certificate" or "voucher"
    # What was checked, for comparing a valid document with the licence on record.
    document: dict | None = field(default=None, repr=False, compare=False)


def _no_duplicates(pairs: list) -> dict:
    # Two values for one name would let another reader see a value other than the one verified.
    seen: dict = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"the name {key!r} appears twice in one object")
        seen[key] = value
    return seen


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def parse_document(raw: str | bytes) -> dict | list | str | int | float | bool | None:
    """Parse JSON text strictly: no repeated names in an object, no NaN or Infinity."""
    return json.loads(raw, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)


def _malformed(reason: str, serial: str | None = None, kid: str | None = None) -> Verification:
    return Verification(False, reason, serial, kid, malformed=True)


def check_certificate(session: Session, raw: str | bytes) -> tuple[Verification, Licence | Voucher | None]:
    """Verify a signed document (a licence certificate or a transaction voucher) online: its signature against this
    marketplace's keys (a retired key only for what it signed before its retirement), then against the record. Not
    valid when no licence (voucher) with its serial (number) was issued here, or when the one on record differs
    from the document (a key that leaked could sign any statement, but not change what this marketplace recorded).
    The licence or voucher when valid."""
    result = verify_document(raw, known_keys(session, current_app))
    if not result.valid:
        return result, None
    if result.kind == "assessment":
        return _check_assessment(session, result)
    if result.kind == "voucher":
        record = session.scalar(select(Voucher).where(Voucher.number == result.serial)) \
            if result.serial and len(result.serial) <= 40 else None
        if record is None:
            return replace(result, valid=False, reason=_("No voucher with this number was issued here: the voucher "
                                                         "is signed, but this marketplace never issued it.")), None
        if canonical_bytes(result.document) != canonical_bytes(voucher_document(record)):
            return replace(result, valid=False, reason=_("The voucher does not match the voucher issued under this "
                                                         "number: its content or signature differs from the "
                                                         "voucher on record.")), None
        return replace(result, reason=_("%(reason)s It matches the voucher on record.", reason=result.reason)), record
    if result.kind == "registration":
        return _check_registration(session, result)
    licence = session.scalar(select(Licence).where(Licence.serial == result.serial)) \
        if result.serial and len(result.serial) <= 40 else None
    if licence is None:
        return replace(result, valid=False, reason=_("No licence with this serial was issued here: the certificate "
                                                     "is signed, but this marketplace never issued it.")), None
    if not licence.signature or canonical_bytes(result.document) != canonical_bytes(certificate_document(licence)):
        return replace(result, valid=False, reason=_("The certificate does not match the certificate issued under "
                                                     "this serial: its content or signature differs from the "
                                                     "licence on record.")), None
    return replace(result, reason=_("%(reason)s It matches the licence on record.", reason=result.reason)), licence


def _check_assessment(session: Session, result: Verification) -> tuple[Verification, Assessment | None]:
    """A validly signed assessment report against the report signed here under its number, with what it is worth
    today (withdrawn, its provider suspended, its files changed; the signed text stays as signed)."""
    record = session.scalar(select(Assessment).where(Assessment.number == result.serial,
                                                     Assessment.status.in_(REPORT_STATES))) \
        if result.serial and len(result.serial) <= 40 else None
    if record is None:
        return replace(result, valid=False, reason=_("No assessment report with this number was signed here: the "
                                                     "report is signed, but this marketplace never issued it.")), None
    if canonical_bytes(result.document) != canonical_bytes(report_document(record)):
        return replace(result, valid=False, reason=_("The assessment report does not match the report signed under "
                                                     "this number: its content or signature differs from the "
                                                     "report on record.")), None
    matches = _("%(reason)s It matches the assessment report on record.", reason=result.reason)
    today = report_standing(record)
    return replace(result, reason=f"{matches} {today}" if today else matches), record


def _check_registration(session: Session, result: Verification
                        ) -> tuple[Verification, RegistrationCertificate | None]:
    """A validly signed registration certificate against the one on record under its serial, with what it is worth
    today (a renewal, expiry, the product's suspension or delisting; the signed text stays as issued)."""
    record = registration.by_serial(session, result.serial or "")
    if record is None:
        return replace(result, valid=False, reason=_("No registration certificate with this serial was issued here: "
                                                     "the certificate is signed, but this marketplace never issued "
                                                     "it.")), None
    if canonical_bytes(result.document) != canonical_bytes(registration.document(record)):
        return replace(result, valid=False, reason=_("The certificate does not match the registration certificate "
                                                     "issued under this serial: its content or signature differs "
                                                     "from the one on record.")), None
    words = registration.standing_words(registration.standing(session, record))
    return replace(result, reason=_("%(reason)s It matches the registration certificate on record. %(standing)s",
                                    reason=result.reason, standing=words)), record


def verify_document(document, jwks_or_keys) -> Verification:
    """Check a certificate document (parsed, or JSON text or bytes) against the published keys, offline: the
    signature, and that a retired key signed it before its retirement (a JWKS's ``retired_at``). Never raises: a
    malformed document, an unknown key, a signature that does not match or one made with a retired key after its
    retirement are reported."""
    try:
        return _verify(document, trusted_keys(jwks_or_keys))
    except (ValueError, TypeError, RecursionError, UnicodeError) as exc:
        return _malformed(_("The document cannot be read: %(problem)s", problem=exc))


def _verify(document, keys: dict[str, PublishedKey]) -> Verification:
    if isinstance(document, bytes | bytearray | str):
        try:
            document = parse_document(document)
        except (ValueError, RecursionError) as exc:
            return _malformed(_("The document is not valid JSON: %(problem)s", problem=exc))
    kinds = set(document) - {"signature"} if isinstance(document, dict) else set()
    if not isinstance(document, dict) or "signature" not in document or len(kinds) != 1 \
            or not kinds <= set(DOCUMENT_KINDS):
        return _malformed(_('A signed document is a JSON object with exactly two fields: "certificate" (or '
                            '"voucher", "assessment" or "registration") and "signature".'))
    kind = kinds.pop()
    statement, signature = document[kind], document["signature"]
    if not isinstance(statement, dict):
        return _malformed(_('"%(field)s" must be a JSON object.', field=kind))
    named = statement.get("serial" if kind in ("certificate", "registration") else "number")
    serial = named if isinstance(named, str) else None
    if not isinstance(signature, dict) or set(signature) != {"alg", "kid", "value"} or not all(
            isinstance(v, str) for v in signature.values()):
        return _malformed(_('"signature" must be an object with the text fields "alg", "kid" and "value".'), serial)
    kid = signature["kid"]
    if signature["alg"] != ALGORITHM:
        return Verification(False, _("Unsupported signature algorithm %(alg)s: certificates are signed with "
                                     "%(expected)s (Ed25519).", alg=repr(signature["alg"]), expected=ALGORITHM),
                            serial, kid, kind=kind)
    published = keys.get(kid)
    if published is None:
        return Verification(False, _("Unknown signing key %(kid)s: it is not among the marketplace's published "
                                     "keys.", kid=repr(kid)), serial, kid, kind=kind)
    key = published.public_key
    try:
        value = b64url_decode(signature["value"])
    except (ValueError, binascii.Error):
        return Verification(False, _("The signature value is not base64url text."), serial, kid, kind=kind)
    try:
        key.verify(value, canonical_bytes(statement))
    except InvalidSignature:
        return Verification(False, _WORDS[kind]["changed"](), serial, kid, kind=kind)
    if (statement.get("type"), statement.get("version")) != DOCUMENT_KINDS[kind]:
        return Verification(False, _WORDS[kind]["unknown"](), serial, kid, kind=kind)
    late = published.signed_after_retirement(statement.get("issued_at"))
    if late:
        return Verification(False, _("Not trusted: the certificate was %(when)s. A retired key vouches only for what "
                                     "it signed before it was retired.", when=late), serial, kid, kind=kind)
    return Verification(True, _WORDS[kind]["valid"](kid), serial, kid, kind=kind,
                        document={kind: statement, "signature": signature})


# What the checks say of each kind of signed document, in the reader's language.
_WORDS = {
    "certificate": {
        "changed": lambda: _("The signature does not match the certificate: it was changed after it was signed, or "
                             "it was signed with another key."),
        "unknown": lambda: _("The signed document is not a data licence certificate this verifier knows."),
        "valid": lambda kid: _("The signature is valid: the certificate is exactly as issued, signed with key "
                               "%(kid)s.", kid=kid),
    },
    "voucher": {
        "changed": lambda: _("The signature does not match the voucher: it was changed after it was signed, or it "
                             "was signed with another key."),
        "unknown": lambda: _("The signed document is not a transaction voucher this verifier knows."),
        "valid": lambda kid: _("The signature is valid: the voucher is exactly as issued, signed with key %(kid)s.",
                               kid=kid),
    },
    "assessment": {
        "changed": lambda: _("The signature does not match the assessment report: it was changed after it was "
                             "signed, or it was signed with another key."),
        "unknown": lambda: _("The signed document is not an assessment report this verifier knows."),
        "valid": lambda kid: _("The signature is valid: the assessment report is exactly as signed, with key "
                               "%(kid)s.", kid=kid),
    },
}
# A registration certificate is a certificate: only what it is not differs.
_WORDS["registration"] = {**_WORDS["certificate"], "unknown": lambda: _(
    "The signed document is not a registration certificate this verifier knows.")}


# ---------------------------------------------------------------- ODRL policy


def _constraint(left: str, operator: str, right) -> dict:
    return {"@type": "Constraint", "leftOperand": left, "operator": operator, "rightOperand": right}


def _moment(text: str) -> dict:
    return {"@value": text, "@type": "xsd:dateTime"}


def _vocab(base: str, name: str) -> str:
    # The exchange's own licence vocabulary, as the catalog's ODRL offers name it (catalog.dcat._vocab_term).
    return f"{base}/vocab/licence#{name}"


def odrl_policy(licence: Licence) -> dict:
    """The certificate as an ODRL 2.2 Agreement (JSON-LD, the ODRL context): the licensor as assigner, the
    licensee as assignee, the product's dataset as target; a permission per permitted use (a purpose constraint),
    with the territory (spatial) and the validity (dateTime) as constraints and attribution and the price paid as
    duties; derivation permitted or prohibited, and the prohibitions. Built from the signed statement, in the
    vocabulary of the catalog's ODRL offers (catalog.dcat.add_offer)."""
    s = licence.statement
    base = s["issuer"]["url"]
    terms = s["terms"]
    policy_id = s["url"]
    assigner = f"{base}/organizations/{quote(s['licensor']['slug'])}"
    assignee = f"{base}/organizations/{quote(s['licensee']['slug'])}"

    shared = []
    place = TERRITORY_PLACES.get(str(terms.get("territory")))
    if place:
        shared.append(_constraint("spatial", "eq", {"@id": place.iri}))
    shared.append(_constraint("dateTime", "gteq", _moment(s["valid_from"])))
    if s.get("valid_until"):
        shared.append(_constraint("dateTime", "lt", _moment(s["valid_until"])))
    duties = []
    if terms.get("attribution_required"):
        duties.append({"@type": "Duty", "action": "attribute", "attributedParty": assigner})
    order = s["order"]
    if order["amount"] > 0:
        amount = _constraint("payAmount", "eq", {"@value": str(minor_to_decimal(order["amount"])),
                                                 "@type": "xsd:decimal"})
        amount["unit"] = {"@id": f"{EU}currency/{order['currency']}"}
        duties.append({"@type": "Duty", "compensatedParty": assigner,
                       "action": [{"rdf:value": {"@id": "odrl:compensate"}, "refinement": [amount]}]})

    def permission(action: str, *constraints: dict, extra_duties: tuple = ()) -> dict:
        rule = {"@type": "Permission", "action": action, "constraint": [*constraints, *shared]}
        if duties or extra_duties:
            rule["duty"] = [*duties, *extra_duties]
        return rule

    permissions = [permission("use", _constraint("purpose", "eq", {"@id": _vocab(base, str(use))}))
                   for use in terms.get("permitted_uses") or ()]
    prohibitions = []
    if terms.get("derivatives_allowed"):
        share_alike = ({"@type": "Duty", "action": str(CC.ShareAlike)},) if terms.get("share_alike") else ()
        permissions.append(permission("derive", extra_duties=share_alike))
    else:
        prohibitions.append({"@type": "Prohibition", "action": "derive"})
    for prohibited in terms.get("prohibitions") or ():
        action = PROHIBITED_ACTIONS.get(str(prohibited))
        prohibitions.append({"@type": "Prohibition",
                             "action": str(action).removeprefix(str(ODRL)) if action else _vocab(base, "reidentify")})

    purpose, sector, territory, users, description = _scenario_values(s["scenario"], english=True)
    policy = {
        "@context": ODRL_CONTEXT,
        "@type": "Agreement",
        "@id": policy_id,
        "uid": policy_id,
        "profile": f"{base}/vocab/licence",
        "dct:identifier": s["serial"],
        "dct:title": f"Licence {s['serial']}: {s['product']['title']}",
        "dct:description": (f"Declared use: {purpose.lower()}, {sector.lower()} sector, "
                            f"in {territory}, about {users} users. {description}").strip(),
        "dct:issued": _moment(s["issued_at"]),
        "dct:source": {"@id": f"{policy_id}.json"},
        "assigner": {"@id": assigner, "@type": "Party", "rdfs:label": s["licensor"]["name"]},
        "assignee": {"@id": assignee, "@type": "Party", "rdfs:label": s["licensee"]["name"]},
        "target": f"{s['product']['url']}#dataset",
        "permission": permissions,
    }
    if prohibitions:
        policy["prohibition"] = prohibitions
    return policy
