"""The seller's editor against what a first-time or careless seller does: two windows on one step, stale forms and
odd input. Every refusal re-shows the step with the input kept and says why."""
from __future__ import annotations

import html
import re

from tests.listings.test_views import COMPLIANCE_FORM, METADATA, _dictionary_form, text, vurl


def stamp_of(page: str) -> str:
    return re.search(r'name="saved_stamp" value="([0-9a-f]+)"', page).group(1)


STALE = "This step was changed in another window since you opened it: check and save again."


def test_a_details_save_from_an_older_window_is_refused_with_the_input_kept(seller_client, session, draft):
    assert seller_client.post(vurl(draft, "/details"), data=METADATA).status_code == 302
    tab_a = stamp_of(text(seller_client.get(vurl(draft, "/details"))))
    tab_b = stamp_of(text(seller_client.get(vurl(draft, "/details"))))
    assert tab_a == tab_b
    saved = seller_client.post(vurl(draft, "/details"),
                               data={**METADATA, "spatial_coverage": "Tab B coverage", "saved_stamp": tab_b})
    assert saved.status_code == 302

    stale = seller_client.post(vurl(draft, "/details"),
                               data={**METADATA, "tags": "traffic, tab a", "saved_stamp": tab_a})
    assert stale.status_code == 409
    page = html.unescape(text(stale))
    assert STALE in page
    assert 'value="traffic, tab a"' in page  # the input kept
    assert "Tab B coverage" in page  # what is saved now, shown
    session.expire_all()
    assert draft.latest_version.spatial_coverage == "Tab B coverage"
    assert "tab a" not in draft.latest_version.tags

    # Saving again from the re-shown form is the seller's choice, and goes through.
    again = seller_client.post(vurl(draft, "/details"),
                               data={**METADATA, "tags": "traffic, tab a", "saved_stamp": stamp_of(text(stale))})
    assert again.status_code == 302
    session.expire_all()
    assert "tab a" in draft.latest_version.tags


def test_a_dictionary_or_compliance_save_from_an_older_window_is_refused(seller_client, session, draft):
    old_dictionary = stamp_of(text(seller_client.get(vurl(draft, "/dictionary"))))
    old_compliance = stamp_of(text(seller_client.get(vurl(draft, "/compliance"))))
    assert seller_client.post(vurl(draft, "/dictionary"),
                              data=_dictionary_form([{"name": "speed", "type": "number"}])).status_code == 302
    assert seller_client.post(vurl(draft, "/compliance"), data=COMPLIANCE_FORM).status_code == 302

    stale = seller_client.post(vurl(draft, "/dictionary"), data={
        **_dictionary_form([{"name": "volume", "type": "integer"}]), "saved_stamp": old_dictionary})
    assert stale.status_code == 409 and STALE in html.unescape(text(stale))
    assert 'value="volume"' in text(stale) and "speed" in text(stale)
    stale = seller_client.post(vurl(draft, "/compliance"), data={
        **COMPLIANCE_FORM, "compliance-source_legality": "Typed in tab A", "saved_stamp": old_compliance})
    assert stale.status_code == 409 and STALE in html.unescape(text(stale))
    assert "Typed in tab A" in text(stale)
    session.expire_all()
    assert [f.name for f in draft.latest_version.fields] == ["speed"]
    assert draft.latest_version.source_legality == "Public DATA.GOV.HK data."
