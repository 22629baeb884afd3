"""Mail cannot be broken by text: a subject built from a title or a name with line breaks stays one header line,
through a real SMTP conversation on loopback, and the request that sends it still succeeds."""
from __future__ import annotations

import smtplib

import pytest

from marketplace.mail import Mail
from marketplace.review import services as review
from tests import factories
from tests.review.conftest import PASSING

INJECTED_TITLE = "Road speeds\r\nBcc: victim@example.net"


def _assert_one_line_subject(received) -> None:
    message = received.message
    assert "\r" not in message["Subject"] and "\n" not in message["Subject"]
    assert message["Bcc"] is None and "victim@example.net" not in received.recipients


def test_a_subject_with_line_breaks_becomes_one_line():
    mail = Mail("seller@example.org", "Approved: Road speeds\r\nBcc: victim@example.net\x0b\u2028end", "Hello")
    assert mail.subject == "Approved: Road speeds Bcc: victim@example.net end"


@pytest.mark.parametrize("address", ["seller@example.org\r\nBcc: victim@example.net",
                                     "seller@example.org, victim@example.net", "Seller <seller@example.org>",
                                     "not-an-address", ""])
def test_a_recipient_that_is_not_one_plain_address_is_refused_like_a_refused_recipient(address):
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        Mail(address, "Hello", "Hello")


def test_smtp_sends_an_injected_subject_as_one_header(app, smtp):
    with app.app_context():
        app.extensions["mailer"].send(Mail("seller@example.org", f"Approved: {INJECTED_TITLE}", "Hello"))
    [received] = smtp.received
    assert received.recipients == ["seller@example.org"]
    assert received.message["Subject"] == "Approved: Road speeds Bcc: victim@example.net"
    _assert_one_line_subject(received)


@pytest.mark.parametrize("decision", ["reject", "request_changes"])
def test_a_review_decision_on_a_title_with_line_breaks_notifies_the_seller(
        session, storage, client, auth, seller, reviewer, smtp, decision):
    product = factories.product(session, seller)
    product.latest_version.title_en = INJECTED_TITLE  # stored before titles had to be one line
    version = factories.complete_version(session, storage, seller, product.latest_version)
    factories.submit(session, seller, version, storage)
    case = review.case_for_version(session, version)
    review.claim_case(session, reviewer, case)
    session.commit()
    smtp.received.clear()  # the submission's own mail
    auth.login(reviewer.email)
    answers = {f"{item}-{part}": value for item, answer in PASSING.items() for part, value in answer.items()}
    answers["quality-result"], answers["quality-comment"] = "fail", "Latitude has no unit."
    response = client.post(f"/review/cases/{case.id}/decision",
                           data={**answers, "decision": decision, "comment": "Give the unit of Latitude."})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert smtp.received, "the seller was not told"
    for received in smtp.received:
        assert received.recipients == [seller.email]
        _assert_one_line_subject(received)


def test_an_invitation_into_an_organization_named_with_line_breaks_is_sent(session, client, smtp):
    owner = factories.user(session, email="owner@example.org", organization="Acme")
    # A name stored before names had to be one line: the mail layer still keeps it to one subject line.
    owner.memberships[0].organization.name = "Acme\r\nBcc: victim@example.net"
    session.commit()
    api = factories.TokenClient(client, factories.api_token(session, owner))
    slug = owner.memberships[0].organization.slug
    response = api.post(f"/api/v1/organizations/{slug}/invitations", json={"email": "new@example.org"})
    assert response.status_code == 201, response.get_json()
    [received] = smtp.received
    assert received.recipients == ["new@example.org"]
    assert received.message["Subject"] == "Join Acme Bcc: victim@example.net on Open Data Exchange"
    _assert_one_line_subject(received)
