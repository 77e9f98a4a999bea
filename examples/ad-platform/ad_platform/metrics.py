"""Prometheus metrics: requests by route template and status, latency by route, labelled with
the app version so a canary analysis can compare versions (e.g. code=~"5..")."""

from __future__ import annotations

import time
from typing import Any, Awaitable, Callable, MutableMapping

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics

# The *_created series only double the exposition size; Prometheus does not need them.
disable_created_metrics()  # type: ignore[no-untyped-call]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

APP_LABEL = "ad-platform"
# Latency buckets around the /bid SLO (tens of milliseconds) up to slow campaign writes.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self, version: str) -> None:
        self.version = version
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests",
            "HTTP requests by route template and status code.",
            ["route", "code", "version", "app"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency by route template.",
            ["route", "version", "app"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.bids = Counter(
            "ad_platform_bids",
            "Bid requests by outcome (won, no_match).",
            ["outcome", "version"],
            registry=self.registry,
        )

    def observe(self, route: str, status: int, seconds: float) -> None:
        self.requests.labels(route, str(status), self.version, APP_LABEL).inc()
        self.latency.labels(route, self.version, APP_LABEL).observe(seconds)


class MetricsMiddleware:
    """Plain ASGI middleware (cheaper than BaseHTTPMiddleware on the /bid hot path)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_record_status)
        finally:
            # The route template keeps the label set bounded; unknown paths share one label.
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe(route, status, time.perf_counter() - started)
