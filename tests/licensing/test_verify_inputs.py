"""The verify page takes a pasted document or a file; a file sent in the paste field is an error shown on the form,
not a crash."""
from __future__ import annotations

import io


def test_a_file_sent_as_the_pasted_text_is_asked_for_again(client):
    response = client.post("/certificates/verify", data={"document": (io.BytesIO(b'{"a": 1}'), "c.json")},
                           content_type="multipart/form-data")
    assert response.status_code in (200, 400, 422)
    assert "Paste the certificate JSON or choose its file." in response.get_data(as_text=True)
