"""GET /signals: recent signals with their rejection reasons."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.unit.api.conftest import READ


def test_lists_recent_signals_with_rejection_reasons(client: TestClient) -> None:
    response = client.get("/signals", headers=READ)
    assert response.status_code == 200
    body = response.json()
    assert [(s["signal_id"], s["accepted"]) for s in body] == [("s2", False), ("s1", True)]
    assert body[0]["reasons"] == ["daily loss limit reached"] and body[1]["entry_price"] == "30000"


def test_filters_and_validates_the_query(client: TestClient) -> None:
    rejected = client.get("/signals?rejected_only=true&limit=5", headers=READ).json()
    assert [s["signal_id"] for s in rejected] == ["s2"]
    assert client.get("/signals?limit=0", headers=READ).status_code == 422
    assert client.get("/signals").status_code == 401
