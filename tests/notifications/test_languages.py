"""A notification is read in the reader's language of the moment, not the one it was written in: the words are
kept in every language, product titles in the reader's script included; the e-mail is in the recipient's."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from marketplace.notifications import services
from tests import factories


def notify(session, user, organization):
    notes = services.notify_organization(
        session, organization, _l("Licence %(serial)s issued", serial="LIC-2026-ABCDE"),
        _l("Your licence for %(product)s is active. Download the data from My licences.", product="Roads"))
    session.commit()
    return notes


def test_a_notification_written_in_english_reads_in_chinese_after_a_switch(session, client, auth):
    reader = factories.user(session, email="reader@example.org", organization="Reader Org")
    reader.locale = "en"
    session.commit()
    notify(session, reader, reader.memberships[0].organization)
    auth.login(reader.email)
    assert "Licence LIC-2026-ABCDE issued" in client.get("/notifications/").get_data(as_text=True)

    reader.locale = "zh-Hant-HK"
    session.commit()
    page = client.get("/notifications/").get_data(as_text=True)
    assert "Licence LIC-2026-ABCDE issued" not in page and "is active" not in page
    assert "LIC-2026-ABCDE" in page and "許可" in page


def test_the_api_gives_the_words_in_the_asked_language(session, client):
    reader = factories.user(session, email="api-reader@example.org", organization="Reader Org")
    notify(session, reader, reader.memberships[0].organization)
    token = factories.api_token(session, reader)
    headers = {"Authorization": f"Bearer {token}"}
    english = client.get("/api/v1/notifications", headers=headers).json[0]
    chinese = client.get("/api/v1/notifications", headers={**headers, "Accept-Language": "zh-Hans"}).json[0]
    assert english["subject"] == "Licence LIC-2026-ABCDE issued"
    assert chinese["subject"] != english["subject"] and "LIC-2026-ABCDE" in chinese["subject"]


def test_the_page_speaks_to_buyers_and_sellers_alike(session, client, auth):
    reader = factories.user(session, email="buyer-reader@example.org", organization="Reader Org")
    session.commit()
    auth.login(reader.email)
    page = client.get("/notifications/").get_data(as_text=True)
    assert "orders, licences, requests and products" in page and "Decisions on your listings" not in page
