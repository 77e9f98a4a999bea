"""The service as Kubernetes runs it: real uvicorn, real sockets, signals and env knobs."""

import signal
import threading
import time
from datetime import date, timedelta

import httpx2

from tests.conftest import ALICE_TOKEN
from tests.integration.conftest import STOPPED_BY_SIGTERM, StartServer, answers, wait_until

AUTH = {"Authorization": f"Bearer {ALICE_TOKEN}"}


def campaign(**overrides: object) -> dict[str, object]:
    today = date.today()
    body: dict[str, object] = {
        "name": "it",
        "budget": 10,
        "bid": 2,
        "start_date": (today - timedelta(days=2)).isoformat(),
        "end_date": (today + timedelta(days=2)).isoformat(),
        "targeting": {"countries": ["DE"], "devices": []},
    }
    body.update(overrides)
    return body


def test_journey_over_http(start_server: StartServer) -> None:
    server = start_server(wait="/ready", APP_VERSION="v7")
    with httpx2.Client(base_url=server.base_url, timeout=5) as http:
        created = http.post("/campaigns", json=campaign(), headers=AUTH)
        assert created.status_code == 201, created.text
        campaign_id = created.json()["id"]
        bid = http.post("/bid", json={"country": "DE", "device": "tablet"})
        assert bid.json() == {"campaign_id": campaign_id, "price": 2.0, "remaining_budget": 8.0}
        assert http.get(f"/campaigns/{campaign_id}").json()["remaining_budget"] == 8.0
        assert http.delete(f"/campaigns/{campaign_id}", headers=AUTH).status_code == 204
        assert http.post("/bid", json={"country": "DE", "device": "tablet"}).status_code == 204
        assert http.get("/health").json() == {"status": "ok", "version": "v7"}
        metrics = http.get("/metrics").text
    assert 'http_requests_total{app="ad-platform",code="204",route="/bid",version="v7"} 1.0' in metrics
    assert server.stop() == STOPPED_BY_SIGTERM
    assert "Application shutdown complete" in server.log()


def test_sigterm_lets_a_request_in_flight_finish(start_server: StartServer) -> None:
    server = start_server(wait="/ready", EXTRA_LATENCY="1500ms")
    result: dict[str, int] = {}

    def slow_bid() -> None:
        response = httpx2.post(server.base_url + "/bid", json={"country": "DE", "device": "mobile"}, timeout=10)
        result["status"] = response.status_code

    thread = threading.Thread(target=slow_bid)
    thread.start()
    # The bid is in flight once the server has accepted it; its EXTRA_LATENCY keeps it there.
    time.sleep(0.5)
    server.process.send_signal(signal.SIGTERM)
    wait_until(lambda: "Shutting down" in server.log(), 10, "uvicorn to start its shutdown")
    assert not answers(server.base_url + "/health"), "a new connection was accepted after SIGTERM"
    thread.join(timeout=10)
    assert result == {"status": 204}
    assert server.process.wait(timeout=10) == STOPPED_BY_SIGTERM
    assert "Finished server process" in server.log()


def test_startup_delay_keeps_the_port_closed(start_server: StartServer) -> None:
    server = start_server(wait=None, STARTUP_DELAY="60s")
    wait_until(lambda: "Waiting for application startup" in server.log(), 30, "uvicorn to start")
    time.sleep(1)
    assert not answers(server.base_url + "/health")
    server.process.kill()
    server.process.wait()


def test_fail_readiness_over_http(start_server: StartServer) -> None:
    server = start_server(FAIL_READINESS="true")
    assert httpx2.get(server.base_url + "/ready").status_code == 503
    assert httpx2.get(server.base_url + "/health").status_code == 200


def test_a_bad_setting_stops_the_start_with_its_name(start_server: StartServer) -> None:
    server = start_server(wait=None, ERROR_RATE="2")
    assert server.process.wait(timeout=30) == 2
    assert "ERROR_RATE: '2' is not between 0 and 1" in server.log()
