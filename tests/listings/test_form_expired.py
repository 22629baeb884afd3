"""A form posted with a token that is no longer valid (logged in again in another window): from this site, the
fields come back with a fresh token so one click sends them again; from another site, the plain 400."""
from __future__ import annotations

import html
import io
import re

import pytest

from tests.listings.test_views import METADATA, vurl


@pytest.fixture
def csrf_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    with app.test_request_context():
        from flask import request
        return request.host_url.rstrip("/")


def test_an_expired_form_of_this_site_comes_back_with_its_input(seller_client, session, draft, csrf_on):
    data = {**METADATA, "spatial_coverage": "Typed before it expired", "csrf_token": "from-the-old-session"}
    response = seller_client.post(vurl(draft, "/details"), data=data, headers={"Origin": csrf_on})
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert "The form expired" in page and "Nothing was saved" in page
    assert f'action="{vurl(draft, "/details")}"' in page
    assert ">Typed before it expired</textarea>" in page
    assert page.count('name="regions"') == 1 and page.count('name="formats"') == 2  # every value of a list
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert token != "from-the-old-session"

    # The page's own form, sent as it stands, saves.
    fields = re.findall(r'<textarea class="input" name="([^"]+)"[^>]*>([^<]*)</textarea>', page)
    again = {}
    for name, value in fields:
        again.setdefault(name, []).append(value)
    resent = seller_client.post(vurl(draft, "/details"), data={**again, "csrf_token": token},
                                headers={"Origin": csrf_on})
    assert resent.status_code == 302
    session.expire_all()
    assert draft.latest_version.spatial_coverage == "Typed before it expired"


def test_the_referer_stands_in_for_a_missing_origin_and_files_must_be_chosen_again(seller_client, draft, csrf_on):
    response = seller_client.post(
        vurl(draft, "/assets"), content_type="multipart/form-data",
        headers={"Referer": csrf_on + vurl(draft, "/files")},
        data={"upload-kind": "sample", "csrf_token": "stale",
              "upload-file": (io.BytesIO(b"a,b\n1,2\n"), "sample.csv", "text/csv")})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Files are not kept: choose them again on the page." in page
    assert ">sample</textarea>" in page and "upload-file" not in page


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {"Referer": "https://evil.example/x"}, {}])
def test_a_post_from_another_site_gets_the_plain_400(seller_client, draft, csrf_on, headers):
    response = seller_client.post(vurl(draft, "/details"), data={**METADATA, "spatial_coverage": "Forged",
                                                                 "csrf_token": "x"}, headers=headers)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The form expired" not in page and "Forged" not in page
    assert "CSRF" in page


def test_an_expired_form_never_writes_a_password_into_the_page(client, csrf_on):
    response = client.post("/login", data={"email": "ada@example.org", "password": "correct horse",
                                           "csrf_token": "stale"}, headers={"Origin": csrf_on})
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert "correct horse" not in page and 'name="password"' not in page
    assert ">ada@example.org</textarea>" in page and "Passwords and codes are not kept" in page
