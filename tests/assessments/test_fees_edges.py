"""A provider's assessment fee at its edges: the API declines an accepted request (refunding a paid fee) and shows
the fee's state to both sides; the API document and the service agree on the largest fee; the form refuses a
negative fee in the words of a fee; and a suspended provider is neither paid nor reads the version's files."""
from __future__ import annotations

from sqlalchemy import func, select

from marketplace.assessments import reports, services
from marketplace.assessments.fees import MAX_FEE
from marketplace.assessments.states import AssessmentStatus
from marketplace.audit.models import AuditEvent
from marketplace.ledger.models import AccountKind
from marketplace.ledger.services import order_balances
from marketplace.notifications.models import Notification
from marketplace.orders.models import Order
from marketplace.orders.states import OrderStatus
from tests import factories
from tests.assessments.conftest import QUALITY_REPORT
from tests.assessments.test_fees import CARD, FEE, accepted_with_fee, balanced, fee_order, pay_by_card
from tests.support.pages import main


def as_(client, session, user):
    return factories.TokenClient(client, factories.api_token(session, user))


# ---------------------------------------------------------------- the API's decision and the fee's state


def test_the_api_declines_an_accepted_request_and_refunds_its_paid_fee(client, session, seller, submitted,
                                                                       provider, assessor):
    asked = accepted_with_fee(session, seller, submitted, provider, assessor)
    pay_by_card(session, seller, fee_order(session, asked))
    declined = as_(client, session, assessor).post(f"/api/v1/assessments/{asked.number}/decision",
                                                   json={"decision": "decline", "reason": "A conflict of interest."})
    assert declined.status_code == 200, declined.get_json()
    body = declined.get_json()
    assert body["status"] == "declined" and body["decline_reason"] == "A conflict of interest."
    assert body["fee_state"] == {"state": "refunded", "amount": FEE, "currency": "CNY"}
    order = fee_order(session, asked)
    assert order.status == OrderStatus.REFUNDED and order.refund_reference.startswith("sim_re_")
    assert order_balances(session, order.id).get(AccountKind.PROVIDER_CASH) == 0
    balanced(session)


def test_the_api_declines_an_accepted_request_with_its_fee_unpaid(client, session, seller, submitted, provider,
                                                                  assessor):
    asked = accepted_with_fee(session, seller, submitted, provider, assessor)
    declined = as_(client, session, assessor).post(f"/api/v1/assessments/{asked.number}/decision",
                                                   json={"decision": "decline", "reason": "Busy."})
    assert declined.status_code == 200, declined.get_json()
    assert declined.get_json()["fee_state"]["state"] == "cancelled"
    assert fee_order(session, asked).status == OrderStatus.CANCELLED
    session.expire_all()
    assert asked.status == AssessmentStatus.DECLINED


def test_the_assessment_json_shows_the_fee_state_to_seller_and_provider(client, session, seller, submitted,
                                                                        provider, assessor):
    sells, assesses = as_(client, session, seller), as_(client, session, assessor)
    asked = sells.post("/api/v1/assessments", json={"product_id": submitted.product_id, "version": submitted.number,
                                                    "provider": provider.organization.slug, "kind": "quality"})
    assert asked.status_code == 201 and asked.get_json()["fee_state"] == {"state": "none", "amount": None,
                                                                         "currency": None}
    base = f"/api/v1/assessments/{asked.get_json()['number']}"
    accepted = assesses.post(f"{base}/decision", json={"decision": "accept", "fee": FEE, "currency": "HKD"})
    assert accepted.get_json()["fee_state"] == {"state": "unpaid", "amount": FEE, "currency": "HKD"}
    pay_by_card(session, seller, fee_order(session, services.assessment_for_provider(session, assessor,
                                                                                     asked.get_json()["number"])))
    drafted = assesses.put(f"{base}/draft", json={"report": {"summary": "Begun."}})
    assert drafted.get_json()["fee_state"] == {"state": "paid", "amount": FEE, "currency": "HKD"}


def test_the_api_document_states_the_fee_as_the_service_takes_it(client, session, seller, submitted, provider,
                                                                 assessor):
    spec = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    fee = spec["RequestDecisionIn"]["properties"]["fee"]
    assert fee["maximum"] == MAX_FEE and "not charged" not in fee["description"]
    assert set(spec["FeeState"]["properties"]) == {"state", "amount", "currency"}
    asked = services.request_assessment(session, seller, submitted, provider, "quality")
    session.commit()
    base = f"/api/v1/assessments/{asked.number}/decision"
    assesses = as_(client, session, assessor)
    too_much = assesses.post(base, json={"decision": "accept", "fee": MAX_FEE + 1, "currency": "CNY"})
    assert too_much.status_code == 422 and "fee" in too_much.get_json()["errors"]
    most = assesses.post(base, json={"decision": "accept", "fee": MAX_FEE, "currency": "CNY"})
    assert most.status_code == 200 and most.get_json()["fee"] == MAX_FEE


# ---------------------------------------------------------------- the form's words


def test_a_negative_fee_is_refused_as_a_fee(client, auth, session, seller, submitted, provider, provider_org,
                                            assessor):
    asked = services.request_assessment(session, seller, submitted, provider, "quality")
    session.commit()
    auth.login(assessor.email)
    refused = client.post(f"/provider/{provider_org.slug}/assessments/{asked.number}/accept",
                          data={"fee": "-5", "currency": "CNY"})
    assert refused.status_code == 422
    page = main(refused)
    assert "The fee cannot be negative." in page and "The price cannot be negative." not in page
    assert session.scalar(select(func.count(Order.id))) == 0


# ---------------------------------------------------------------- a suspended provider


def test_a_suspended_providers_fee_is_not_paid_nor_its_files_read(client, auth, session, admin, seller, seller_org,
                                                                  submitted, provider, provider_org, assessor):
    asked = accepted_with_fee(session, seller, submitted, provider, assessor)
    free = services.request_assessment(session, seller, submitted, provider, "compliance")
    services.decide_request(session, assessor, free, accept=True)  # no fee: its files open at once
    session.commit()
    started = fee_order(session, asked)
    auth.login(seller.email)
    mine = f"/seller/{seller_org.slug}/assessments"
    assert client.post(f"{mine}/{asked.number}/fee").status_code == 303  # a checkout opened before the suspension
    auth.logout()
    services.suspend_provider(session, admin, provider, suspend=True, reason="Accreditation lapsed.")
    session.commit()

    auth.login(seller.email)
    refused = client.post(f"{mine}/{asked.number}/fee")
    assert refused.status_code == 303 and refused.headers["Location"] == mine
    assert "cannot be paid until it is reinstated" in main(client.get(mine))
    paid = client.post(f"/orders/{started.id}/checkout", data={"card_number": CARD}, follow_redirects=True)
    assert "cannot be paid until it is reinstated" in main(paid)
    assert fee_order(session, asked).status == OrderStatus.AWAITING_PAYMENT
    auth.logout()

    auth.login(assessor.email)
    files = f"/provider/{provider_org.slug}/assessments/{free.number}/files/{submitted.assets[0].id}"
    assert client.get(files).status_code == 403
    services.suspend_provider(session, admin, provider, suspend=False, reason="Renewed.")
    session.commit()
    assert client.get(files).status_code == 200


# ---------------------------------------------------------------- the platform refunds a paid fee


def test_an_admin_sees_and_refunds_a_paid_fee_which_declines_the_request(client, auth, session, admin, seller,
                                                                         seller_org, submitted, provider,
                                                                         provider_org, assessor):
    asked = accepted_with_fee(session, seller, submitted, provider, assessor)
    order = pay_by_card(session, seller, fee_order(session, asked))
    auth.login(seller.email)
    assert client.post(f"/admin/orders/{order.id}/refund", data={"reason": "Mine."}).status_code == 403
    auth.logout()

    auth.login(admin.email)
    listed = main(client.get("/admin/orders"))
    assert order.number in listed and "Assessment fee" in listed and asked.number in listed
    refund = f"/admin/orders/{order.id}/refund"
    assert client.post(refund, data={"reason": " "}).status_code == 422
    assert fee_order(session, asked).status == OrderStatus.FULFILLED
    done = client.post(refund, data={"reason": "The provider stopped answering the seller."})
    assert done.status_code == 302 and done.headers["Location"].startswith("/admin/orders")
    assert asked.number in main(client.get(done.headers["Location"]))
    order = fee_order(session, asked)
    assert order.status == OrderStatus.REFUNDED and order.refund_reference.startswith("sim_re_")
    assert asked.status == AssessmentStatus.DECLINED
    assert asked.decline_reason == "The provider stopped answering the seller."
    balanced(session)
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "assessment.decline",
                                                       AuditEvent.subject_id == asked.id)).all()
    assert event.actor_id == admin.id and event.payload["by"] == "platform"
    for user in (seller, assessor):
        told = session.scalars(select(Notification.subject).where(Notification.user_id == user.id)).all()
        assert f"The platform declined assessment request {asked.number}" in told
    # the seller is told of the request it knows, never of the order behind the fee it cannot open
    told = session.execute(select(Notification.subject, Notification.body, Notification.link)
                           .where(Notification.user_id == seller.id)).all()
    assert f"Fee of {asked.number} refunded" in [subject for subject, _body, _link in told]
    assert not any(order.number in f"{subject} {body} {link}" for subject, body, link in told)
    # a second refund finds nothing to give back
    again = client.post(refund, data={"reason": "Twice."})
    assert again.status_code == 409 and fee_order(session, asked).status == OrderStatus.REFUNDED


def test_an_admin_refunds_no_unpaid_fee_nor_the_fee_of_a_signed_report(client, auth, session, admin, seller,
                                                                       submitted, provider, assessor):
    signed = accepted_with_fee(session, seller, submitted, provider, assessor)
    paid = pay_by_card(session, seller, fee_order(session, signed))
    reports.sign_report(session, assessor, signed, QUALITY_REPORT)
    unpaid = services.request_assessment(session, seller, submitted, provider, "compliance")
    services.decide_request(session, assessor, unpaid, accept=True, fee=1000, currency="USD")
    session.commit()
    auth.login(admin.email)
    listed = main(client.get("/admin/orders"))
    assert f"/admin/orders/{fee_order(session, unpaid).id}/refund" not in listed  # nothing paid to give back
    assert client.post(f"/admin/orders/{fee_order(session, unpaid).id}/refund",
                       data={"reason": "No."}).status_code == 409
    assert client.post(f"/admin/orders/{paid.id}/refund", data={"reason": "Late."}).status_code == 409
    assert fee_order(session, unpaid).status == OrderStatus.AWAITING_PAYMENT
    assert fee_order(session, signed).status == OrderStatus.FULFILLED
    assert unpaid.status == AssessmentStatus.ACCEPTED and signed.status == AssessmentStatus.SIGNED


# ---------------------------------------------------------------- what the seller reads names its request


def test_the_checkout_names_the_request_not_the_fee_order(client, auth, session, seller, seller_org, submitted,
                                                          provider, assessor):
    asked = accepted_with_fee(session, seller, submitted, provider, assessor)
    order = fee_order(session, asked)
    auth.login(seller.email)
    mine = f"/seller/{seller_org.slug}/assessments"
    client.post(f"{mine}/{asked.number}/fee")
    page = main(client.get(f"/orders/{order.id}/checkout"))
    assert "assessment requests" in page and "order page" not in page and order.number not in page
    client.post(f"/orders/{order.id}/checkout", data={"card_number": CARD})
    again = client.get(f"/orders/{order.id}/checkout", follow_redirects=True)
    assert f"The fee of {asked.number} is not waiting for a payment" in main(again)
    assert order.number not in main(again)
    refused = main(client.post(f"{mine}/{asked.number}/fee", follow_redirects=True))
    assert f"The fee of {asked.number} is" in refused and order.number not in refused


# ---------------------------------------------------------------- a provider's sales and statements


def test_a_providers_sales_and_statement_speak_of_its_fees(client, auth, session, seller, seller_org, submitted,
                                                           provider, provider_org, provider_owner, assessor):
    asked = accepted_with_fee(session, seller, submitted, provider, assessor)
    pay_by_card(session, seller, fee_order(session, asked))
    auth.login(provider_owner.email)
    sales = main(client.get(f"/seller/{provider_org.slug}/sales"))
    assert "Seller console" not in sales and "What your products earned" not in sales
    assert "assessment fees" in sales and "1 assessment fee paid" in sales
    statement = client.get(f"/seller/{provider_org.slug}/statements", follow_redirects=True)
    assert statement.status_code == 200
    page = main(statement)
    assert "Seller console" not in page and "Product or assessment" in page and asked.number in page
    auth.logout()
    auth.login(seller.email)  # an organization that only sells products reads the seller's words
    sales = main(client.get(f"/seller/{seller_org.slug}/sales"))
    assert "Seller console" in sales and "What your products earned" in sales and "assessment fee" not in sales
