"""Keep-alive connections that let traffic move: a bounded connection age and a drain on SIGTERM.

A Service (ClusterIP, NodePort, LoadBalancer) balances connections, not requests: kube-proxy picks
an endpoint when a connection opens and the connection stays with that pod. A client that keeps
its connections alive therefore keeps talking to the old colour after a blue-green switch, until
the old pods close those connections. Closing an idle connection races with a request the client
is sending on it at that moment ("socket hang up", "fetch failed"), which is how a switch loses
requests although both colours are healthy.

So the service closes connections only in the one way HTTP/1.1 makes safe: it answers with
`Connection: close`, and the client opens a new connection, which the Service balances onto the
colour it now selects.
- Every connection answers `Connection: close` once it is older than CONNECTION_MAX_AGE (like
  nginx's keepalive_time or gRPC's MAX_CONNECTION_AGE): within that time after a switch, busy
  clients have moved to the new colour by themselves, long before the old one is scaled down.
- On SIGTERM (after the pod's preStop sleep, when the endpoints have moved away) the server stops
  accepting, answers every request with `Connection: close` for SHUTDOWN_DRAIN, and only then
  starts uvicorn's graceful shutdown, which closes the connections still idle and lets requests in
  flight finish. A client that sent nothing for the whole drain is the only one left to race.
"""

from __future__ import annotations

import asyncio
import time
from types import FrameType
from typing import Any, Awaitable, Callable, MutableMapping

import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CLOSE = (b"connection", b"close")


class ConnectionLifetime:
    """ASGI middleware: `Connection: close` on connections older than max_age, and on all while draining.

    A connection is known by its client address and port (unique while it is open). Entries of
    connections that closed by themselves are pruned once they are older than twice max_age; a
    port reused by a later connection at worst closes that one early, which is harmless.
    """

    def __init__(self, app: ASGIApp, max_age: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.max_age = max_age
        self.clock = clock
        self.draining = False
        self.opened: dict[tuple[str, int], float] = {}
        self.next_prune = 0.0

    def should_close(self, scope: Scope) -> bool:
        if self.draining:
            return True
        client = scope.get("client")
        if self.max_age <= 0 or not client:
            return False
        now = self.clock()
        key = (str(client[0]), int(client[1]))
        opened = self.opened.setdefault(key, now)
        if now >= self.next_prune:
            self.next_prune = now + self.max_age
            self.opened = {k: t for k, t in self.opened.items() if now - t < 2 * self.max_age}
            self.opened.setdefault(key, opened)
        if now - opened >= self.max_age:
            del self.opened[key]
            return True
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.should_close(scope):
            await self.app(scope, receive, send)
            return

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"connection"]
                message = {**message, "headers": [*headers, CLOSE]}
            await send(message)

        await self.app(scope, receive, send_closing)


class DrainingServer(uvicorn.Server):
    """uvicorn, with a drain between SIGTERM and the graceful shutdown (see the module's comment)."""

    def __init__(self, config: uvicorn.Config, lifetime: ConnectionLifetime, drain: float) -> None:
        super().__init__(config)
        self.lifetime = lifetime
        self.drain = drain
        self.loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets: Any = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().startup(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        loop = self.loop
        if self.lifetime.draining or self.drain <= 0 or loop is None or self.should_exit:
            # A second signal (or no drain): uvicorn's own handling, which a second SIGINT forces.
            super().handle_exit(sig, frame)
            return
        self.lifetime.draining = True
        loop.call_soon_threadsafe(self._start_drain, sig, frame)

    def _start_drain(self, sig: int, frame: FrameType | None) -> None:
        for server in getattr(self, "servers", []):
            server.close()  # no new connections; the open ones are answered with Connection: close
        if self.loop is not None:  # set in startup: always, once a signal is handled here
            self.loop.call_later(self.drain, super().handle_exit, sig, frame)
