"""Shared fixtures: a temporary database and an API client per test, and campaign bodies."""

from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from ad_platform import Settings, create_app

TODAY = date(2026, 6, 15)
ALICE_TOKEN = "alice-token-0123456789"
BOB_TOKEN = "bob-token-0123456789ab"
TOKENS = {ALICE_TOKEN: "alice", BOB_TOKEN: "bob"}

CampaignBody = Callable[..., dict[str, Any]]


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "campaigns.db")


@pytest.fixture
def settings(db_path: str) -> Settings:
    return Settings(db_path=db_path, app_version="test", tokens=TOKENS)


@pytest.fixture
def make_client(db_path: str) -> Iterator[Callable[..., TestClient]]:
    """A client for an app built with extra settings (release knobs); closed after the test."""
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        settings = Settings(**{"db_path": db_path, "app_version": "test", "tokens": TOKENS, **overrides})
        client = TestClient(create_app(settings, today=lambda: TODAY))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


@pytest.fixture
def alice() -> dict[str, str]:
    return {"Authorization": f"Bearer {ALICE_TOKEN}"}


@pytest.fixture
def bob() -> dict[str, str]:
    return {"Authorization": f"Bearer {BOB_TOKEN}"}


@pytest.fixture
def campaign_body() -> CampaignBody:
    def body(**overrides: Any) -> dict[str, Any]:
        value: dict[str, Any] = {
            "name": "Summer sale",
            "budget": 100,
            "bid": 2.5,
            "start_date": (TODAY - timedelta(days=1)).isoformat(),
            "end_date": (TODAY + timedelta(days=30)).isoformat(),
            "targeting": {"countries": ["DE", "FR"], "devices": ["mobile"]},
        }
        value.update(overrides)
        return value

    return body
