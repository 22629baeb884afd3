"""Every lifecycle's refusals are written in the reader's language: each move a table refuses (from the wrong state,
or by the wrong actor) reads in Simplified and Hong Kong Chinese with no English word left, and in English as
before."""
from __future__ import annotations

import importlib
import pkgutil
import re

import pytest
from flask_babel import force_locale

import marketplace
from marketplace.errors import Forbidden, InvalidTransition
from marketplace.lifecycle import Lifecycle

ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")


def every_lifecycle() -> dict[str, Lifecycle]:
    """Every Lifecycle held by a module of the package, by where it lives."""
    found = {}
    for module_info in pkgutil.walk_packages(marketplace.__path__, "marketplace."):
        if ".translations" in module_info.name:
            continue
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if isinstance(value, Lifecycle) and id(value) not in {id(v) for v in found.values()}:
                found[f"{module_info.name}.{name}"] = value
    return found


def refusals(lifecycle: Lifecycle) -> list[Exception]:
    """Every refusal the table can give: each action from each state it is not allowed in, and each allowed move
    by each actor that may not make it."""
    (state, action), entry = next(iter(lifecycle.table.items()))
    actor_enum = type(next(iter(entry.by)))
    out = []
    for current in type(state):
        for act in type(action):
            for actor in actor_enum:
                try:
                    lifecycle.next(current, act, actor)
                except (InvalidTransition, Forbidden) as refused:
                    out.append(refused)
    return out


def test_every_lifecycle_is_found():
    names = {lifecycle.subject for lifecycle in every_lifecycle().values()}
    assert {"version", "product", "order", "licence", "payout", "cross-boundary evidence", "public notice",
            "objection", "provider application", "assessment request"} <= names


@pytest.mark.parametrize("locale", ["zh_Hans", "zh_Hant_HK"])
def test_every_refusal_of_every_lifecycle_reads_in_chinese(app, locale):
    with app.test_request_context():
        for where, lifecycle in every_lifecycle().items():
            with force_locale(locale):
                messages = [refused.message for refused in refusals(lifecycle)]
            assert messages, where
            for message in messages:
                assert not ENGLISH_WORD.search(message), (where, message)


def test_refusals_read_in_english_as_they_did(app):
    from marketplace.crossborder.states import EVIDENCE_LIFECYCLE, EvidenceAction, EvidenceActor, EvidenceStatus
    from marketplace.orders.states import ORDER_LIFECYCLE, OrderAction, OrderActor, OrderStatus

    with app.test_request_context():
        with pytest.raises(InvalidTransition) as wrong_state:
            EVIDENCE_LIFECYCLE.next(EvidenceStatus.NEEDED, EvidenceAction.CONFIRM, EvidenceActor.SELLER)
        assert wrong_state.value.message == "No evidence was submitted yet, so there is none to decide."
        with pytest.raises(InvalidTransition) as wrong_state:
            EVIDENCE_LIFECYCLE.next(EvidenceStatus.SUBMITTED, EvidenceAction.SUBMIT, EvidenceActor.BUYER)
        assert wrong_state.value.message == ("The evidence was already submitted and waits for the seller's or a "
                                             "reviewer's decision.")
        with pytest.raises(InvalidTransition) as wrong_state:
            ORDER_LIFECYCLE.next(OrderStatus.AWAITING_PAYMENT, OrderAction.APPROVE, OrderActor.SELLER)
        assert wrong_state.value.message == "Cannot approve an order that is awaiting payment."
        with pytest.raises(Forbidden) as wrong_actor:
            EVIDENCE_LIFECYCLE.next(EvidenceStatus.SUBMITTED, EvidenceAction.CONFIRM, EvidenceActor.BUYER)
        assert wrong_actor.value.message == "Only a reviewer or a seller may confirm a cross-boundary evidence."
        with force_locale("zh_Hans"):
            with pytest.raises(Forbidden) as in_chinese:
                EVIDENCE_LIFECYCLE.next(EvidenceStatus.SUBMITTED, EvidenceAction.CONFIRM, EvidenceActor.BUYER)
        assert "跨境" in in_chinese.value.message
