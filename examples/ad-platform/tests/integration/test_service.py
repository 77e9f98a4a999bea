"""The service as Kubernetes runs it: real uvicorn, real sockets, signals and env knobs."""

import http.client
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


def keep_alive_client(base_url: str, stop: threading.Event, seen: dict[str, int]) -> None:
    """A client that keeps its connection alive, as a load balancer or SDK does, until refused.

    It reconnects when told `Connection: close`. A refused connection means the server stopped
    accepting (behind a Service, the client would reach another pod): the client is done. A request
    sent on an open connection that gets no answer is the failure a switch must never cause.
    """
    host, port = base_url.removeprefix("http://").split(":")
    connection: http.client.HTTPConnection | None = None
    while not stop.is_set():
        if connection is None:
            connection = http.client.HTTPConnection(host, int(port), timeout=5)
            try:
                connection.connect()
            except ConnectionRefusedError:
                seen["refused"] += 1
                return
        try:
            connection.request("GET", "/health")
            response = connection.getresponse()
            response.read()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            seen["failed"] += 1
            connection.close()
            connection = None
            continue
        seen["answered"] += 1
        if (response.getheader("connection") or "").lower() == "close":
            seen["told to close"] += 1
            connection.close()
            connection = None
        time.sleep(0.02)


def test_an_old_keep_alive_connection_is_told_to_close(start_server: StartServer) -> None:
    server = start_server(CONNECTION_MAX_AGE="600ms")
    host, port = server.base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    closes: list[bool] = []
    started = time.monotonic()
    while time.monotonic() - started < 1.0:
        connection.request("GET", "/health")
        response = connection.getresponse()
        response.read()
        closes.append((response.getheader("connection") or "").lower() == "close")
        if closes[-1]:
            break
        time.sleep(0.05)
    connection.close()
    assert closes[0] is False, "a new connection was told to close"
    assert closes[-1] is True, "a connection older than CONNECTION_MAX_AGE was kept alive"
    assert 0.5 <= time.monotonic() - started < 1.0


def test_sigterm_moves_busy_keep_alive_clients_without_a_failed_request(start_server: StartServer) -> None:
    server = start_server(SHUTDOWN_DRAIN="1s", CONNECTION_MAX_AGE="0")
    seen = {"answered": 0, "failed": 0, "told to close": 0, "refused": 0}
    stop = threading.Event()
    clients = [threading.Thread(target=keep_alive_client, args=(server.base_url, stop, seen)) for _ in range(4)]
    for client in clients:
        client.start()
    time.sleep(0.5)
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=15) == STOPPED_BY_SIGTERM
    stop.set()
    for client in clients:
        client.join(timeout=10)
    assert seen["failed"] == 0, seen
    assert seen["told to close"] >= 4 and seen["refused"] == 4, seen
