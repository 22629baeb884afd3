"""Buyer page forms of a licence: renewal, and the idempotent base of every order form.

Forms only parse; the rules of renewal live in the order services and come back as DomainError.errors, mapped
onto the fields by ``apply_domain_errors``.
"""
from __future__ import annotations

import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SubmitField

from marketplace.text import idempotency_key_fits


def new_idempotency_key() -> str:
    """A fresh key for each rendered form: submitting the same form twice returns the first order."""
    return secrets.token_urlsafe(16)


class IdempotentForm(FlaskForm):
    idempotency_key = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A new form gets a new key; a posted one keeps its key, unless it is one no order could carry (a
        # damaged page), which the buyer could neither see nor fix.
        key = self.idempotency_key.data or ""
        if not self.is_submitted() or not key or not idempotency_key_fits(key):
            self.idempotency_key.data = new_idempotency_key()


class RenewForm(IdempotentForm):
    accept_terms = BooleanField(_l("I accept the licence terms of this plan for another period."))
    submit = SubmitField(_l("Renew"))
