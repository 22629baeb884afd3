"""The admin's audit page: whether the hash chain and its signed checkpoints hold, and the events, newest first,
with who acted (by name) and on what (by title, linked), filtered by actor, object, action and date range, paged
back with the filters kept, and exported as CSV. Filters that cannot be used re-show the form with why (400)."""
from __future__ import annotations

from flask import Response, current_app, render_template, request, stream_with_context

from marketplace.admin.audit_csv import audit_csv
from marketplace.admin.audit_filters import AuditFilterForm, parse_filters
from marketplace.admin.audit_objects import KIND_WORDS
from marketplace.admin.audit_words import events_shown
from marketplace.admin.views import bp
from marketplace.audit.checkpoints import verify_audit
from marketplace.audit.services import event_page, filtered_events, known_actions
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.signing.services import known_keys

PER_PAGE = 100


def _form() -> AuditFilterForm:
    return AuditFilterForm(request.args, list(KIND_WORDS))


@bp.get("/audit")
def audit():
    form, actions = _form(), known_actions(db.session)
    return _audit_page(form, parse_filters(db.session, form, actions), actions)


def _audit_page(form, parsed, actions: list[str]):
    """The audit page for filters already read: the events they let through, or the form with its errors (400)."""
    report = verify_audit(db.session, known_keys(db.session, current_app))
    context = {"form": form, "report": report, "errors": parsed.errors, "actions": actions,
               "product": parsed.product, "before": parsed.before, "notice": parsed.notice,
               "page_has_errors": bool(parsed.errors)}  # the title says "Error:" and the summary takes focus
    if parsed.errors:
        return render_template("admin/audit.html", events=[], more=False, **events_shown(db.session, []),
                               **context), 400
    events, more = event_page(db.session, parsed.event_filter, parsed.before, PER_PAGE)
    return render_template("admin/audit.html", events=events, more=more, **events_shown(db.session, events),
                           **context)


@bp.get("/audit.csv")
def audit_export():
    """Every event the filters let through (all pages, not only the one shown), as CSV."""
    form = _form()
    parsed = parse_filters(db.session, form)
    if parsed.errors:
        return _audit_page(form, parsed, known_actions(db.session))
    query = filtered_events(parsed.event_filter)
    name = f"audit-{utcnow():%Y%m%d-%H%M%S}.csv"
    return Response(stream_with_context(audit_csv(db.session, query)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "no-store"})
