"""Helpers of the seller pages: loading what the user may see, building the workspace page, and the
plain-words formatting the templates use. No rules live here; those are in the services."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, send_file
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from marketplace import i18n
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db
from marketplace.ledger.fees import fee_rate, percent
from marketplace.listings import services, steps
from marketplace.listings.assets import filesize
from marketplace.listings.form_errors import cell_attrs, has_problems
from marketplace.listings.forms import (
    ComplianceForm,
    DictionaryForm,
    MetadataForm,
    NewVersionForm,
    PlanForm,
    SourceForm,
    SourceLookupForm,
    UploadForm,
)
from marketplace.listings.inference import looks_inferable
from marketplace.listings.licences import get_licence
from marketplace.listings.models import Asset, DataProduct, LicenceTerms, PricingPlan, ProductVersion
from marketplace.listings.states import EDITABLE_VERSION_STATES, NEW_VERSION_AFTER_STATES, status_words
from marketplace.listings.vocab import (
    BillingPeriod,
    Category,
    Classification,
    DeliveryMethod,
    FieldType,
    PermittedUse,
    PersonalInfo,
    PlanKind,
    Portal,
    Prohibition,
    Region,
    SourceUsage,
    Territory,
    UpdateFrequency,
)


def acting_user():
    return current_user._get_current_object()


def load_product(product_id: int) -> DataProduct:
    """The product if the user is a member of its organization; 404 for anyone else."""
    try:
        return services.product_for_seller(db.session, acting_user(), product_id)
    except NotFound as exc:
        abort(404, exc.message)


def load_version(product_id: int, number: int) -> ProductVersion:
    try:
        return services.version_for_seller(db.session, acting_user(), product_id, number)
    except NotFound as exc:
        abort(404, exc.message)


def workspace_url(version: ProductVersion, anchor: str | None = None) -> str:
    """The editor step that shows ``anchor`` (a step's key or a section of the former one-page editor)."""
    return steps.step_url(version, steps.step_for(anchor=anchor))


def default_forms(version: ProductVersion, step: str) -> dict:
    """The forms of one step, empty or filled from the version (never from the request)."""
    if step == "sources":
        return {"source": SourceForm(formdata=None, prefix="source"),
                "lookup": SourceLookupForm(formdata=None, prefix="lookup")}
    if step == "files":
        return {"upload": UploadForm(formdata=None, prefix="upload")}
    if step == "dictionary":
        return {"dictionary": DictionaryForm.for_rows(version.fields, prefix="dict")}
    if step == "plans":
        return {"plan": PlanForm(formdata=None, prefix="plan")}
    if step == "compliance":
        return {"compliance": ComplianceForm(formdata=None, prefix="compliance").fill(
            version, current_user.display_name)}
    if step == "details":
        return {"metadata": MetadataForm(formdata=None).fill(version)}
    return {"new_version": NewVersionForm(formdata=None, prefix="newversion")}


# The forms whose save replaces what the step holds, by step: their pages carry a stamp of what was saved when
# they were opened, so that a save from an older window is caught instead of silently undoing a newer one.
STAMPED_FORMS = {"details": "metadata", "dictionary": "dictionary", "compliance": "compliance"}
STAMP_FIELD = "saved_stamp"
_NOT_STAMPED = {"csrf_token", "submit", "attest", "attested_by_name"}


def _stamped(form) -> dict:
    return {name: value for name, value in form.data.items() if name not in _NOT_STAMPED}


def _digest(values: dict) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()[:32]


def _saved_values(version: ProductVersion, step: str) -> dict:
    return _stamped(default_forms(version, step)[STAMPED_FORMS[step]])


def step_stamp(version: ProductVersion, step: str, defaults: dict | None = None) -> str | None:
    """A short digest of what ``step`` holds now (None for a step that only adds things); ``defaults`` are the
    step's forms as saved, if the caller has built them already."""
    if step not in STAMPED_FORMS:
        return None
    return _digest(_stamped((defaults or default_forms(version, step))[STAMPED_FORMS[step]]))


def plan_changed_elsewhere(version: ProductVersion, plan_id: int) -> bool:
    """Whether plan ``plan_id`` of ``version`` was changed since its edit page was opened (the post's stamp
    differs from what it holds now, or it is gone); checked under the version's lock, as ``changed_elsewhere``.
    False when the post carries no stamp."""
    sent = request.form.get(STAMP_FIELD)
    if not sent:
        return False
    services.lock_version(db.session, version)
    plan = next((p for p in version.plans if p.id == plan_id), None)
    return plan is None or sent != plan_stamp(plan)


def plan_stamp(plan: PricingPlan) -> str:
    """A short digest of what a pricing plan holds now (its edit page carries it, as the steps do theirs)."""
    return _digest(_stamped(PlanForm(formdata=None).fill(plan)))


def changed_elsewhere(version: ProductVersion, step: str, form) -> list[tuple[str, str]] | None:
    """None when the step holds what it held when its form was opened (or the post carries no stamp); else what
    is saved now, as (field label, saved value) for each field whose saved value differs from the input."""
    sent = request.form.get(STAMP_FIELD)
    if not sent:
        return None
    # The save that follows is made under this lock: a concurrent save of the version waits, then finds the stamp
    # changed, instead of both passing the check.
    services.lock_version(db.session, version)
    if sent == step_stamp(version, step):
        return None
    saved = _saved_values(version, step)
    return [(str(form[name].label.text), _shown(value)) for name, value in saved.items()
            if name in form and form[name].data != value] or [(_("All fields"), _("as shown below"))]


def _shown(value) -> str:
    if isinstance(value, list | tuple):
        return i18n.gettext(", ").join(
            str(v.get("name") or "") if isinstance(v, dict) else str(v) for v in value) or "—"
    return "—" if value in (None, "") else str(value)


# What other packages show on the workspace, by template variable, for one version (review adds its case: it builds
# on listings, never the reverse, so it registers here instead of being imported).
WORKSPACE_EXTRAS: list[Callable[[ProductVersion], dict[str, Any]]] = []


def render_workspace(product: DataProduct, version: ProductVersion, *, status: int = 200, forms: dict | None = None,
                     error: str | None = None, notice: str | None = None, inference=None, inferred_from=None,
                     prescreen=None, step: str | None = None, **page):
    """One step of the editor for one version: ``step`` names it, else the step of the form being corrected
    (``forms`` replaces that step's defaults, input kept), else review and submit; ``prescreen`` is a pre-screen
    report the seller just asked for ("check my listing"). ``page`` goes to the template as is."""
    step = step or steps.step_for(forms)
    # A refusal of a form shown with its errors is said once, in the form's summary, not again in a banner.
    corrected = [form for form in (forms or {}).values() if has_problems(form)]
    if error and corrected:
        if error not in corrected[0].form_errors:
            corrected[0].form_errors.insert(0, error)
        error = None
    defaults = default_forms(version, step)  # the step's forms as saved: built once, for the page and its stamp
    stamp = page.pop("stamp", None) or (request.form.get(STAMP_FIELD) if request.method == "POST" else None) \
        or step_stamp(version, step, defaults)
    all_forms = defaults | (forms or {})
    latest = product.latest_version
    checklist = steps.readiness(version)
    extras = {name: value for extra in WORKSPACE_EXTRAS for name, value in extra(version).items()}
    requested = requested_changes(version, extras.get("review_case"))
    editable = version.status in EDITABLE_VERSION_STATES
    return render_template(
        "seller/product.html", product=product, version=version, forms=all_forms, step=step,
        steps=steps.progress(version, step, checklist, steps.visit(version, step), requested),
        missing=next((item["problems"] for item in checklist if item["anchor"] == step), []),
        next_step=steps.BY_KEY[steps.next_step(step)],
        next_step_url=steps.step_url(version, steps.next_step(step)),
        step_title=steps.BY_KEY[step].title,
        editable=editable, checklist=checklist,
        # sent back after being listed: its files and dictionary stay what buyers licensed
        frozen=editable and services.was_listed(db.session, version),
        platform_fee=percent(fee_rate(product.organization)),
        can_start_version=version is latest and latest.status in NEW_VERSION_AFTER_STATES,
        error=error, notice=notice, inference=inference, inferred_from=inferred_from,
        upload_limit=current_app.config["MAX_UPLOAD_BYTES"], prescreen=prescreen,
        requested=requested, stamp=stamp, stamp_field=STAMP_FIELD,
        **extras, **page,
    ), status


def requested_changes(version: ProductVersion, case) -> Any:
    """The review round whose requested changes the seller still has to make, or None."""
    if case is None or not case.rounds or version.status.value != "changes_requested":
        return None
    return case.rounds[-1]


def refused(product: DataProduct, version: ProductVersion, exc: DomainError, forms: dict | None = None,
            step: str | None = None):
    """Re-render the step after a service refused: 422 invalid, 409 not editable, 413 too large."""
    db.session.rollback()
    if isinstance(exc, NotFound):
        abort(404, exc.message)
    return render_workspace(product, version, status=exc.status, forms=forms, error=exc.message, step=step)


def done(version: ProductVersion, message: str, anchor: str | None = None):
    """Flash ``message`` and go to the step ``anchor`` names (review and submit without one)."""
    flash(message, "success")
    return redirect(workspace_url(version, anchor))


def find_asset(product: DataProduct, asset_id: int) -> Asset:
    for version in product.versions:
        for asset in version.assets:
            if asset.id == asset_id:
                return asset
    abort(404, _("No such file."))


def send_asset(asset: Asset):
    """The stored file as an attachment: a short-lived presigned URL where the backend has one, else streamed."""
    storage = current_app.extensions["storage"]
    url = storage.presigned_url(asset.storage_key, expires_in=300, filename=asset.filename)
    if url:
        if not storage.exists(asset.storage_key):  # a presigned URL to nothing would end on S3's XML error
            abort(404, _("The stored file is missing."))
        return redirect(url)
    try:
        stream = storage.open(asset.storage_key)
    except NotFound:
        abort(404, _("The stored file is missing."))
    response = send_file(stream, mimetype=asset.content_type, as_attachment=True, download_name=asset.filename,
                         conditional=False, etag=False, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Length"] = str(asset.size)
    return response


# ---------------------------------------------------------------- formatting for templates


def label(enum_cls, value) -> str:
    if value is None or value == "":
        return "—"
    return _label(enum_cls, str(value), i18n.catalog_key())


@lru_cache(maxsize=4096)
def _label(enum_cls, value: str, locale: str) -> str:
    # A member's label in ``locale`` (the request's: part of the key so each locale is kept apart): pages show
    # dozens of labels, each put into words once. An unknown value is shown as it is.
    try:
        english = enum_cls(value).label_en
    except ValueError:
        return value
    return i18n.gettext(english)


def labels(enum_cls, values) -> str:
    return i18n.gettext(", ").join(label(enum_cls, v) for v in values or []) or "—"


def money(amount: int, currency) -> str:
    return i18n.money(amount, currency)


def licence_name(licence_id: str) -> str:
    info = get_licence(licence_id)
    return info.name if info else licence_id


def licence_url(licence_id: str) -> str | None:
    info = get_licence(licence_id)
    return info.url if info else None


def price_words(plan: PricingPlan) -> str:
    if plan.kind == PlanKind.FREE:
        return _("Free")
    price = money(plan.amount, plan.currency)
    if plan.kind == PlanKind.SUBSCRIPTION:
        if plan.billing_period == BillingPeriod.MONTH:
            return _("%(price)s per month", price=price)
        if plan.billing_period == BillingPeriod.YEAR:
            return _("%(price)s per year", price=price)
        return _("%(price)s per period", price=price)
    return _("%(price)s, paid once", price=price)


def plan_period_words(plan: PricingPlan) -> str:
    """How long a plan's licence runs, in a few words for a plan list: a subscription renews yearly or monthly,
    a licence for a period lasts its days, any other has no expiry."""
    if plan.kind == PlanKind.SUBSCRIPTION:
        return _("renews yearly") if plan.billing_period == BillingPeriod.YEAR else _("renews monthly")
    if plan.duration_days:
        return ngettext("%(num)d day", "%(num)d days", plan.duration_days)
    return _("no expiry")


def licence_terms_words(t: LicenceTerms, kind: str | None = None, billing_period: str | None = None) -> list[str]:
    """Licence terms as short plain sentences; ``kind`` and ``billing_period`` say how long a subscription runs."""
    words = [_("May be used for: %(uses)s.", uses=labels(PermittedUse, t.permitted_uses).lower())]
    if t.prohibitions:
        words.append(_("Not allowed: %(prohibited)s.", prohibited=labels(Prohibition, t.prohibitions).lower()))
    words.append(_("Territory: %(territory)s.", territory=label(Territory, t.territory)))
    if kind == PlanKind.SUBSCRIPTION:
        yearly = billing_period == BillingPeriod.YEAR
        words.append(_("Licence runs one year at a time; renewing continues it.") if yearly
                     else _("Licence runs one month at a time; renewing continues it."))
    elif t.duration_days:
        words.append(ngettext("Licence lasts %(num)d day.", "Licence lasts %(num)d days.", t.duration_days))
    else:
        words.append(_("Licence does not expire."))
    words.append(_("Attribution required.") if t.attribution_required else _("No attribution needed."))
    words.append(_("Derivative works allowed.") if t.derivatives_allowed else _("No derivative works."))
    if t.share_alike:
        words.append(_("Adaptations must be shared under these same terms."))
    return words


def terms_words(plan: PricingPlan) -> list[str]:
    """A plan's licence terms as short plain sentences, with how it is sold."""
    words = licence_terms_words(plan.terms, plan.kind, plan.billing_period)
    if plan.requires_approval:
        words.append(_("Each request needs the seller's approval."))
    if plan.licence_cap:
        words.append(ngettext("At most %(num)d licence sold.", "At most %(num)d licences sold.", plan.licence_cap))
    return words


@lru_cache(maxsize=1)
def _automatic_changelogs() -> frozenset[str]:
    # The changelog a new product's first version gets, as stored: in the language of whoever created it.
    words = {services.FIRST_VERSION}
    for tag in i18n.LOCALES:
        with i18n.in_locale_of(tag):
            words.add(i18n.gettext(services.FIRST_VERSION))
    return frozenset(words)


def changelog_words(text: str | None) -> str | None:
    """A version's changelog to show: the automatic one in the reader's language, a seller's as written."""
    if text and text.strip() in _automatic_changelogs():
        return i18n.gettext(services.FIRST_VERSION)
    return text


def can_infer(asset: Asset) -> bool:
    return looks_inferable(asset.filename, asset.content_type)


TEMPLATE_HELPERS = {
    "label": label, "labels": labels, "money": money, "filesize": filesize, "licence_name": licence_name,
    "licence_url": licence_url, "price_words": price_words, "terms_words": terms_words, "can_infer": can_infer,
    "plan_period_words": plan_period_words,
    "cell_attrs": cell_attrs, "changelog_words": changelog_words,
    "Category": Category, "Region": Region, "UpdateFrequency": UpdateFrequency, "DeliveryMethod": DeliveryMethod,
    "FieldType": FieldType, "Portal": Portal, "PersonalInfo": PersonalInfo, "Classification": Classification,
    "PlanKind": PlanKind,
    "Territory": Territory, "PermittedUse": PermittedUse, "Prohibition": Prohibition, "SourceUsage": SourceUsage,
    "EDITABLE_VERSION_STATES": EDITABLE_VERSION_STATES, "status_words": status_words,
}
