"""ConnectionLifetime as an ASGI middleware: which answers say `Connection: close`, on a fake clock."""

import asyncio
from typing import Any

from ad_platform.connections import ConnectionLifetime


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def ok_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"connection", b"keep-alive")]})
    await send({"type": "http.response.body", "body": b"ok"})


def answer(middleware: ConnectionLifetime, port: int) -> list[tuple[bytes, bytes]]:
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "http.request"}

    scope = {"type": "http", "client": ("10.0.0.7", port)}
    asyncio.run(middleware(scope, receive, send))
    headers: list[tuple[bytes, bytes]] = sent[0]["headers"]
    return headers


def closes(headers: list[tuple[bytes, bytes]]) -> bool:
    return (b"connection", b"close") in headers


def test_a_connection_is_told_to_close_once_older_than_max_age_and_only_once() -> None:
    clock = Clock()
    middleware = ConnectionLifetime(ok_app, max_age=5, clock=clock)
    assert not closes(answer(middleware, 40000))
    clock.now += 4.9
    assert not closes(answer(middleware, 40000))
    assert not closes(answer(middleware, 40001)), "another connection has its own age"
    clock.now += 0.1
    headers = answer(middleware, 40000)
    assert closes(headers) and (b"connection", b"keep-alive") not in headers
    # The client reconnects; if the OS hands it the same port, it is a new connection.
    assert not closes(answer(middleware, 40000))


def test_draining_closes_every_connection_and_max_age_zero_never() -> None:
    clock = Clock()
    middleware = ConnectionLifetime(ok_app, max_age=0, clock=clock)
    clock.now += 3600
    assert not closes(answer(middleware, 40000))
    middleware.draining = True
    assert closes(answer(middleware, 40000))


def test_entries_of_connections_that_went_away_are_pruned() -> None:
    clock = Clock()
    middleware = ConnectionLifetime(ok_app, max_age=1, clock=clock)
    for port in range(1000, 1100):
        answer(middleware, port)
    clock.now += 2.5
    answer(middleware, 2000)
    assert list(middleware.opened) == [("10.0.0.7", 2000)]


def test_lifespan_and_other_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    middleware = ConnectionLifetime(app, max_age=1)
    middleware.draining = True
    asyncio.run(middleware({"type": "lifespan"}, None, None))  # type: ignore[arg-type]
    assert seen == ["lifespan"]
