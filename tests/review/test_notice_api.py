"""Public notices and registrations in the JSON API."""
from __future__ import annotations

from datetime import timedelta

from marketplace.db import utcnow
from marketplace.review import public_notice as notices
from tests import factories


def test_notices_are_public(client, notice):
    listed = client.get("/api/v1/notices?state=open")
    assert listed.status_code == 200
    assert [n["registration_number"] for n in listed.get_json()["items"]] == [notice.registration_number]
    assert client.get("/api/v1/notices?state=recent").get_json()["total"] == 0
    assert client.get("/api/v1/notices?state=closed").status_code == 422
    one = client.get(f"/api/v1/notices/{notice.id}").get_json()
    assert one["taking_objections"] is True and one["status"] == "open" and one["objections"] == 0
    missing = client.get("/api/v1/notices/999999")
    assert missing.status_code == 404 and missing.get_json()["code"] == "not_found"


def test_objecting_and_deciding_through_the_api(client, session, notice, objector, reviewer, seller):
    api = factories.TokenClient(client, factories.api_token(session, objector))
    org = objector.memberships[0].organization
    url = f"/api/v1/notices/{notice.id}/objections"
    assert client.post(url, json={"organization_id": org.id, "reasons": "x"}).status_code == 401
    blank = api.post(url, json={"organization_id": org.id, "reasons": "   "})
    assert blank.status_code == 422
    foreign = api.post(url, json={"organization_id": seller.memberships[0].organization_id, "reasons": "x"})
    assert foreign.status_code == 403
    filed = api.post(url, json={"organization_id": org.id, "reasons": "The dictionary hides a name column."})
    assert filed.status_code == 201 and filed.get_json()["status"] == "pending"
    objection_id = filed.get_json()["id"]
    decision = f"{url}/{objection_id}/decision"
    assert api.post(decision, json={"decision": "dismiss", "reason": "No."}).status_code == 403
    as_reviewer = factories.TokenClient(client, factories.api_token(session, reviewer))
    assert as_reviewer.post(decision, json={"decision": "maybe", "reason": "?"}).status_code == 422
    done = as_reviewer.post(decision, json={"decision": "dismiss", "reason": "The column holds road names."})
    assert done.status_code == 200 and done.get_json()["status"] == "dismissed"
    assert as_reviewer.post(decision, json={"decision": "uphold", "reason": "Again."}).status_code == 409
    notice.closes_at = utcnow() - timedelta(seconds=1)
    session.commit()
    late = api.post(url, json={"organization_id": org.id, "reasons": "Late."})
    assert late.status_code == 409
    assert notices.end_due_notices(session) == [notice.id]
    session.commit()
    registration = client.get(f"/api/v1/registrations/{notice.registration_number}").get_json()
    assert registration["standing"] == "valid"
    assert registration["document"]["registration"]["serial"] == f"{notice.registration_number}-1"
    assert client.get("/api/v1/registrations/REG-1999-000001").status_code == 404
