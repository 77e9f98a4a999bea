"""The API through an in-process client: status codes, validation, auth, knobs, metrics."""

from typing import Callable

import pytest
from fastapi.testclient import TestClient

from tests.conftest import CampaignBody


def test_create_read_list_update_delete(client: TestClient, alice: dict[str, str], campaign_body: CampaignBody) -> None:
    created = client.post("/campaigns", json=campaign_body(), headers=alice)
    assert created.status_code == 201
    campaign = created.json()
    assert created.headers["location"] == f"/campaigns/{campaign['id']}"
    assert campaign["owner"] == "alice"
    assert campaign["remaining_budget"] == 100

    assert client.get(f"/campaigns/{campaign['id']}").json() == campaign
    listed = client.get("/campaigns").json()
    assert listed["total"] == 1 and listed["items"] == [campaign]

    updated = client.put(f"/campaigns/{campaign['id']}", json=campaign_body(name="Winter"), headers=alice)
    assert updated.status_code == 200 and updated.json()["name"] == "Winter"

    assert client.delete(f"/campaigns/{campaign['id']}", headers=alice).status_code == 204
    assert client.get(f"/campaigns/{campaign['id']}").status_code == 404


def test_pagination(client: TestClient, alice: dict[str, str], campaign_body: CampaignBody) -> None:
    for index in range(5):
        client.post("/campaigns", json=campaign_body(name=f"c{index}"), headers=alice)
    page = client.get("/campaigns", params={"limit": 2, "offset": 3}).json()
    assert page["total"] == 5
    assert [item["name"] for item in page["items"]] == ["c3", "c4"]
    assert client.get("/campaigns", params={"limit": 0}).status_code == 422
    assert client.get("/campaigns", params={"limit": 101}).status_code == 422


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"budget": 0}, "budget"),
        ({"budget": 10.001}, "budget"),
        ({"bid": -1}, "bid"),
        ({"bid": 500}, "bid must not exceed budget"),
        ({"start_date": "2026-07-01", "end_date": "2026-06-01"}, "end_date must not be before start_date"),
        ({"start_date": "tomorrow"}, "start_date"),
        ({"targeting": {"countries": ["de"]}}, "countries"),
        ({"targeting": {"countries": ["DE", "DE"]}}, "must not repeat"),
        ({"targeting": {"devices": ["watch"]}}, "devices"),
        ({"targeting": {"cities": ["Berlin"]}}, "cities"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_validation_names_the_field(
    client: TestClient, alice: dict[str, str], campaign_body: CampaignBody, overrides: dict[str, object], field: str
) -> None:
    response = client.post("/campaigns", json=campaign_body(**overrides), headers=alice)
    assert response.status_code == 422
    assert field in response.text


def test_writes_need_a_valid_token(client: TestClient, campaign_body: CampaignBody) -> None:
    missing = client.post("/campaigns", json=campaign_body())
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = client.post("/campaigns", json=campaign_body(), headers={"Authorization": "Bearer not-a-known-token"})
    assert wrong.status_code == 401
    assert "not-a-known-token" not in wrong.text
    basic = client.post("/campaigns", json=campaign_body(), headers={"Authorization": "Basic YWxpY2U6eA=="})
    assert basic.status_code == 401
    assert client.get("/campaigns").status_code == 200


def test_another_owners_campaign_is_forbidden(
    client: TestClient, alice: dict[str, str], bob: dict[str, str], campaign_body: CampaignBody
) -> None:
    campaign_id = client.post("/campaigns", json=campaign_body(), headers=alice).json()["id"]
    assert client.put(f"/campaigns/{campaign_id}", json=campaign_body(), headers=bob).status_code == 403
    assert client.delete(f"/campaigns/{campaign_id}", headers=bob).status_code == 403
    assert client.delete(f"/campaigns/{campaign_id}", headers={}).status_code == 401
    assert client.get(f"/campaigns/{campaign_id}").status_code == 200
    assert client.put("/campaigns/999", json=campaign_body(), headers=bob).status_code == 404


def test_bid_charges_the_best_campaign_until_its_budget_is_spent(
    client: TestClient, alice: dict[str, str], campaign_body: CampaignBody
) -> None:
    cheap = client.post("/campaigns", json=campaign_body(bid=1), headers=alice).json()
    rich = client.post("/campaigns", json=campaign_body(budget=5, bid=2.5), headers=alice).json()
    request = {"country": "DE", "device": "mobile"}

    first = client.post("/bid", json=request)
    assert first.status_code == 200
    assert first.json() == {"campaign_id": rich["id"], "price": 2.5, "remaining_budget": 2.5}
    assert client.post("/bid", json=request).json()["remaining_budget"] == 0
    assert client.post("/bid", json=request).json()["campaign_id"] == cheap["id"]
    assert client.post("/bid", json={"country": "US", "device": "mobile"}).status_code == 204
    assert client.post("/bid", json={"country": "DE"}).status_code == 422


def test_health_ready_and_metrics(client: TestClient, alice: dict[str, str], campaign_body: CampaignBody) -> None:
    assert client.get("/health").json() == {"status": "ok", "version": "test"}
    assert client.get("/ready").json() == {"status": "ready", "version": "test"}
    client.post("/campaigns", json=campaign_body(), headers=alice)
    client.get("/campaigns/12345")
    client.get("/no/such/path")
    client.post("/bid", json={"country": "DE", "device": "mobile"})

    text = client.get("/metrics").text
    assert 'http_requests_total{app="ad-platform",code="201",route="/campaigns",version="test"} 1.0' in text
    assert (
        'http_requests_total{app="ad-platform",code="404",route="/campaigns/{campaign_id}",version="test"} 1.0'
        in text
    )
    assert 'http_requests_total{app="ad-platform",code="404",route="unmatched",version="test"} 1.0' in text
    assert 'http_request_duration_seconds_bucket{app="ad-platform",le="+Inf",route="/bid",version="test"} 1.0' in text
    assert 'ad_platform_bids_total{outcome="won",version="test"} 1.0' in text


def test_fail_readiness_knob(make_client: Callable[..., TestClient]) -> None:
    client = make_client(fail_readiness=True)
    response = client.get("/ready")
    assert response.status_code == 503
    assert "FAIL_READINESS" in response.json()["reason"]
    assert client.get("/health").status_code == 200


def test_error_rate_knob_fails_that_fraction_of_campaign_requests_only(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(error_rate=0.25)
    statuses = [client.get("/campaigns").status_code for _ in range(40)]
    assert statuses.count(500) == 10
    assert statuses.count(200) == 30
    assert all(client.post("/bid", json={"country": "DE", "device": "mobile"}).status_code == 204 for _ in range(8))
    assert 'code="500",route="/campaigns"' in client.get("/metrics").text
