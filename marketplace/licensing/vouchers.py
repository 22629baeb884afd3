"""Transaction vouchers (交易凭证): for every settled (paid) order, a signed record of the trade.

A voucher states the parties, the product and version, the declared scenario, the amount paid, the platform's fee
and the seller's net as the ledger's sale transaction wrote them (read from its postings, never recomputed), the
licence serial, the ledger transaction's id and the time of settlement. It is signed exactly as a licence
certificate is (``certificates``: the same canonical JSON, key and published keys), as ``{"voucher": statement,
"signature": ...}`` with ``"type": "TransactionVoucher"`` inside the signed statement, so that the certificate
checks (page, endpoint and ``flask licences verify``) verify it and never take one for the other.

An assessment fee (an order paying a data service provider, see ``orders.assessment_fees``) gets a voucher too,
with the assessment request in place of the product, version, scenario and licence (``issue_fee_voucher``).

A free order settles no money and gets no voucher: its licence certificate already records the trade, and a
voucher of zero would record no settlement. The signed voucher never changes; what happened to the money since (a
refund, a dispute) is read from the ledger when the voucher is looked up.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import quote

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.access import Permission, require
from marketplace.accounts.models import Organization, User
from marketplace.db import utcnow
from marketplace.errors import NotFound
from marketplace.ledger.models import AccountKind, LedgerTransaction, TransactionKind
from marketplace.ledger.services import order_balances
from marketplace.licensing.certificates import (
    NAME,
    VOUCHER_TYPE,
    VOUCHER_VERSION,
    _party,
    base_url,
    canonical_bytes,
    iso_utc,
    voucher_document,
)
from marketplace.licensing.models import Licence, Voucher
from marketplace.signing.documents import DocumentKind, register
from marketplace.signing.services import current_signer


def voucher_url(number: str, base: str | None = None) -> str:
    return f"{base if base is not None else base_url()}/vouchers/{quote(number)}"


def _number(licence: Licence) -> str:
    return f"TV-{licence.created_at.year}-{secrets.token_hex(5).upper()}"


def _sale_amounts(sale: LedgerTransaction) -> tuple[int, int, int]:
    """Gross, platform fee and seller's net as the sale's postings wrote them. The ledger writes no zero posting: a
    fee of 0 (a 0 % rate, or one that rounds to nothing) or a net of 0 (a 100 % rate) has none, and reads as 0."""
    by_kind = {posting.account.kind: posting.amount for posting in sale.postings}
    return (by_kind.get(AccountKind.PROVIDER_CASH, 0), -by_kind.get(AccountKind.PLATFORM_FEE, 0),
            -by_kind.get(AccountKind.SELLER_PENDING, 0))


def build_voucher_statement(number: str, licence: Licence, sale: LedgerTransaction) -> dict:
    """What the voucher states: the licence certificate's parties, product, version and scenario, and the sale's
    money and time. Only strings, integers and null, like a certificate's statement."""
    cert = licence.statement
    gross, fee, net = _sale_amounts(sale)
    version = cert["versions"][0] if cert["versions"] else {"number": None, "label": ""}
    base = base_url()
    return {
        "type": VOUCHER_TYPE,
        "version": VOUCHER_VERSION,
        "number": number,
        "url": voucher_url(number, base),
        "issued_at": iso_utc(utcnow()),  # when signed: later than the settlement for a voucher issued by backfill
        "issuer": cert["issuer"],
        "seller": cert["licensor"],
        "buyer": cert["licensee"],
        "product": cert["product"],
        "product_version": {"number": version["number"], "label": version["label"]},
        "scenario": cert["scenario"],
        "order": cert["order"]["number"],
        "amount": gross,
        "currency": sale.currency,
        "platform_fee": fee,
        "seller_net": net,
        "licence": {"serial": licence.serial, "url": cert["url"]},
        "ledger_transaction": sale.id,
        "settled_at": iso_utc(sale.occurred_at),
    }


def issue_voucher(session: Session, licence: Licence) -> Voucher | None:
    """Sign and record the voucher of the licence's order, once: called in the transaction that writes the sale
    (under the order's lock). None when the order settled no money (no sale in the ledger) or has its voucher."""
    sale = session.scalar(select(LedgerTransaction).where(LedgerTransaction.order_id == licence.order_id,
                                                          LedgerTransaction.kind == TransactionKind.SALE))
    if sale is None or order_voucher(session, licence.order_id) is not None:
        return None
    signer = current_signer(session, current_app)
    statement = build_voucher_statement(_number(licence), licence, sale)
    voucher = Voucher(number=statement["number"], order_id=licence.order_id, licence_id=licence.id,
                      ledger_transaction_id=sale.id, buyer_organization_id=licence.buyer_organization_id,
                      seller_organization_id=licence.seller_organization_id, statement=statement,
                      signature=signer.sign(canonical_bytes(statement)), key_id=signer.key_id)
    session.add(voucher)
    session.flush()
    return voucher


def _voucher_number(year: int) -> str:
    return f"TV-{year}-{secrets.token_hex(5).upper()}"


@dataclass(frozen=True)
class FeeTrade:
    """What a fee voucher states besides the money, handed by orders: the order and the assessment request."""

    order_id: int
    order_number: str
    buyer: Organization
    seller: Organization
    assessment_number: str
    assessment_kind: str


def issue_fee_voucher(session: Session, trade: FeeTrade) -> Voucher | None:
    """Sign and record the voucher of a paid assessment fee, once (as ``issue_voucher``, with no licence): the
    provider is the seller, the commissioning organization the buyer, the assessment request what was bought."""
    sale = session.scalar(select(LedgerTransaction).where(LedgerTransaction.order_id == trade.order_id,
                                                          LedgerTransaction.kind == TransactionKind.SALE))
    if sale is None or order_voucher(session, trade.order_id) is not None:
        return None
    gross, fee, net = _sale_amounts(sale)
    base = base_url()
    number = _voucher_number(utcnow().year)
    statement = {
        "type": VOUCHER_TYPE, "version": VOUCHER_VERSION, "number": number, "url": voucher_url(number, base),
        "issued_at": iso_utc(utcnow()), "issuer": {"name": NAME["en"], "url": base},
        "seller": _party(trade.seller), "buyer": _party(trade.buyer),
        "assessment": {"number": trade.assessment_number, "kind": trade.assessment_kind},
        "product": None, "product_version": None, "scenario": None, "licence": None,
        "order": trade.order_number, "amount": gross, "currency": sale.currency, "platform_fee": fee,
        "seller_net": net, "ledger_transaction": sale.id, "settled_at": iso_utc(sale.occurred_at),
    }
    signer = current_signer(session, current_app)
    voucher = Voucher(number=number, order_id=trade.order_id, licence_id=None, ledger_transaction_id=sale.id,
                      buyer_organization_id=trade.buyer.id, seller_organization_id=trade.seller.id,
                      statement=statement, signature=signer.sign(canonical_bytes(statement)), key_id=signer.key_id)
    session.add(voucher)
    session.flush()
    return voucher


@dataclass(frozen=True)
class Since:
    """What happened to the voucher's money after it was issued, from the ledger."""

    refunded: int
    partly: bool
    disputed: bool
    dispute_lost: bool

    @property
    def code(self) -> str:
        """What happened since, as the API says it: settled, partly_refunded, refunded, disputed or reversed."""
        if self.dispute_lost:
            return "reversed"
        if self.disputed:
            return "disputed"
        if self.refunded:
            return "partly_refunded" if self.partly else "refunded"
        return "settled"

    @property
    def words(self):
        if self.dispute_lost:
            return _l("Reversed: the buyer's bank upheld a dispute and the payment was returned.")
        if self.disputed:
            return _l("Disputed: the buyer's bank is reviewing the payment.")
        if self.refunded:
            return _l("Refunded in part to the buyer after settlement.") if self.partly else \
                _l("Refunded in full to the buyer after settlement.")
        return _l("Settled.")


def voucher_since(session: Session, voucher: Voucher) -> Since:
    """Refunds and disputes of the voucher's order written to the ledger after its sale."""
    kinds = set(session.scalars(select(LedgerTransaction.kind).where(
        LedgerTransaction.order_id == voucher.order_id, LedgerTransaction.id > voucher.ledger_transaction_id)))
    lost = TransactionKind.DISPUTE_LOST in kinds
    held = TransactionKind.DISPUTE_HOLD in kinds and not (kinds & {TransactionKind.DISPUTE_WON,
                                                                   TransactionKind.DISPUTE_LOST})
    cash = order_balances(session, voucher.order_id).get(AccountKind.PROVIDER_CASH, 0)
    refunded = 0 if lost else voucher.statement["amount"] - cash
    return Since(refunded=refunded, partly=0 < refunded < voucher.statement["amount"], disputed=held,
                 dispute_lost=lost)


def voucher_for(session: Session, user: User | None, number: str) -> Voucher:
    """The voucher under ``number`` for a member of its buyer or seller organization (or a platform admin);
    NotFound for anyone else, as for a number never issued."""
    voucher = session.scalar(select(Voucher).where(Voucher.number == number)) if len(number) <= 40 else None
    if voucher is None:
        raise NotFound(_("There is no transaction voucher %(number)s.", number=repr(number[:40])))
    require(user, Permission.VIEW_ORDER, voucher)
    return voucher


def order_voucher(session: Session, order_id: int) -> Voucher | None:
    """The voucher of an order, if it settled money."""
    return session.scalar(select(Voucher).where(Voucher.order_id == order_id))


def _voucher_by_number(session: Session, number: str) -> Voucher | None:
    return session.scalar(select(Voucher).where(Voucher.number == number)) if len(number) <= 40 else None


register(DocumentKind(
    field="voucher", type=VOUCHER_TYPE, version=VOUCHER_VERSION, serial_field="number",
    find=_voucher_by_number, document=voucher_document,
    status=lambda session, voucher: voucher_since(session, voucher).code,  # refunds and disputes since the sale
    changed_words=lambda: _("The signature does not match the voucher: it was changed after it was signed, or it "
                            "was signed with another key."),
    unknown_words=lambda: _("The signed document is not a transaction voucher this verifier knows."),
    valid_words=lambda kid: _("The signature is valid: the voucher is exactly as issued, signed with key %(kid)s.",
                              kid=kid),
    not_issued_words=lambda: _("No voucher with this number was issued here: the voucher is signed, but this "
                               "marketplace never issued it."),
    differs_words=lambda: _("The voucher does not match the voucher issued under this number: its content or "
                            "signature differs from the voucher on record."),
    matches_words=lambda _session, _voucher, reason: _("%(reason)s It matches the voucher on record.",
                                                       reason=reason),
))
