"""Text the system records in English and shows in the reader's language: forms found in the stored text, their
values taken out and shown through the forms again or a function, anything else shown as written."""
from __future__ import annotations

import pytest
from flask_babel import refresh

from marketplace.i18n import N_
from marketplace.orders.anomalies import ANOMALY_DETAILS, CLOSED_ORDER, MISMATCH, SECOND_PAYMENT
from marketplace.orders.states import OrderStatus
from marketplace.payments.stripe_provider import OTHER_AMOUNT
from marketplace.recorded_text import RecordedText

FORMS = RecordedText(N_("Order refunded: %(reason)s"), N_("Refunded in %(where)s."), N_("the Stripe Dashboard"))


@pytest.fixture
def reading(app):
    def read(language: str):
        context = app.test_request_context("/", headers={"Accept-Language": language})
        context.push()
        refresh()
        return context
    contexts = []
    yield lambda language: contexts.append(read(language))
    for context in reversed(contexts):
        context.pop()


def test_english_is_stored_and_shown_as_it_was_written(reading):
    reading("en")
    text = FORMS.english(N_("Order refunded: %(reason)s"), reason="duplicate purchase")
    assert text == "Order refunded: duplicate purchase"
    assert FORMS.shown(text) == text


def test_a_form_and_the_forms_inside_its_values_are_translated(reading):
    reading("zh-CN")
    inner = FORMS.english(N_("Refunded in %(where)s."), where="the Stripe Dashboard")
    shown = FORMS.shown(FORMS.english(N_("Order refunded: %(reason)s"), reason=inner))
    assert shown.startswith("订单已退款") and "Refunded" not in shown and "Dashboard" not in shown, shown


def test_text_in_no_known_form_is_shown_as_written(reading):
    reading("zh-HK")
    for text in ("重複購買", "Refunded by phone", "", "Order refunded"):
        assert FORMS.shown(text) == text
    assert FORMS.shown(None) == ""


def test_only_its_own_forms_are_stored():
    with pytest.raises(ValueError):
        FORMS.english("Order refunded because %(reason)s", reason="x")


def test_a_repeated_placeholder_must_hold_the_same_text(reading):
    reading("en")
    twice = RecordedText("%(a)s and %(a)s", "%(a)s then %(b)s")
    assert twice.shown("x and x") == "x and x"
    assert twice.shown("x and y") == "x and y"  # no form matched: as written


def test_an_anomaly_shows_the_status_by_its_label_and_an_old_value_as_written(reading):
    reading("zh-HK")
    closed = ANOMALY_DETAILS.english(CLOSED_ORDER, number="ORD-7", status=OrderStatus.CANCELLED.value)
    assert closed == "Payment for ORD-7, which is cancelled."
    shown = ANOMALY_DETAILS.shown(closed)
    assert "ORD-7" in shown and str(OrderStatus.CANCELLED.label).lower() in shown and "Payment" not in shown
    odd = ANOMALY_DETAILS.shown("Payment for ORD-7, which is mislaid.")
    assert "mislaid" in odd and "Payment" not in odd  # a value the enum does not know is kept


def test_a_mismatch_inside_an_anomaly_is_translated_to_the_end(reading):
    reading("zh-CN")
    detail = OTHER_AMOUNT % {"charged": 100, "charged_currency": "hkd", "amount": 500, "currency": "HKD"}
    text = ANOMALY_DETAILS.english(MISMATCH, number="ORD-9", detail=detail)
    shown = ANOMALY_DETAILS.shown(text)
    assert "ORD-9" in shown and "100 hkd" in shown and "500 HKD" in shown
    assert "session" not in shown and "Payment" not in shown, shown
    assert ANOMALY_DETAILS.shown(ANOMALY_DETAILS.english(SECOND_PAYMENT, number="ORD-1", payment="pi_1")) != \
        "Second payment for ORD-1, already paid with pi_1."
