from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from ad_platform.storage import CampaignFields, NotFound, NotOwner, Storage

TODAY = date(2026, 6, 15)


def fields(**overrides: object) -> CampaignFields:
    values: dict[str, object] = {
        "name": "c",
        "budget_cents": 1000,
        "bid_cents": 100,
        "start_date": date(2026, 6, 1),
        "end_date": date(2026, 6, 30),
        "countries": [],
        "devices": [],
        "active": True,
    }
    values.update(overrides)
    return CampaignFields(**values)  # type: ignore[arg-type]


def test_bid_picks_the_highest_matching_campaign_and_charges_it(db_path: str) -> None:
    storage = Storage(db_path)
    storage.create("a", fields(bid_cents=300, countries=["FR"]))
    best = storage.create("a", fields(bid_cents=200, countries=["DE"], devices=["mobile"]))
    storage.create("a", fields(bid_cents=100))
    storage.create("a", fields(bid_cents=900, active=False))
    storage.create("a", fields(bid_cents=800, start_date=date(2026, 7, 1), end_date=date(2026, 7, 2)))

    won = storage.bid("DE", "mobile", TODAY)
    assert won is not None
    assert (won.campaign_id, won.price_cents, won.remaining_cents) == (best.id, 200, 800)
    assert storage.get(best.id).remaining_cents == 800


def test_bid_answers_none_when_nothing_matches(db_path: str) -> None:
    storage = Storage(db_path)
    storage.create("a", fields(countries=["FR"]))
    assert storage.bid("DE", "desktop", TODAY) is None


def test_a_campaign_is_never_overspent_by_concurrent_bidders(db_path: str) -> None:
    # Ten connections (as ten replicas on one file would have) race for a budget of 50 bids.
    Storage(db_path).create("a", fields(budget_cents=5000, bid_cents=100))
    stores = [Storage(db_path) for _ in range(10)]

    def bid_until_empty(storage: Storage) -> int:
        wins = 0
        while storage.bid("DE", "mobile", TODAY) is not None:
            wins += 1
        return wins

    with ThreadPoolExecutor(max_workers=10) as pool:
        wins = sum(pool.map(bid_until_empty, stores))
    assert wins == 50
    assert stores[0].list(10, 0)[0][0].remaining_cents == 0


def test_update_keeps_what_was_spent(db_path: str) -> None:
    storage = Storage(db_path)
    campaign = storage.create("a", fields(budget_cents=1000, bid_cents=300))
    storage.bid("DE", "mobile", TODAY)
    updated = storage.update(campaign.id, "a", fields(budget_cents=2000, bid_cents=300))
    assert updated.remaining_cents == 1700
    shrunk = storage.update(campaign.id, "a", fields(budget_cents=200, bid_cents=100))
    assert shrunk.remaining_cents == 0


def test_owner_checks_and_missing_campaigns(db_path: str) -> None:
    storage = Storage(db_path)
    campaign = storage.create("a", fields())
    with pytest.raises(NotOwner):
        storage.update(campaign.id, "b", fields())
    with pytest.raises(NotOwner):
        storage.delete(campaign.id, "b")
    storage.delete(campaign.id, "a")
    with pytest.raises(NotFound):
        storage.get(campaign.id)
    with pytest.raises(NotFound):
        storage.delete(campaign.id, "a")


def test_ping_fails_once_closed(db_path: str) -> None:
    storage = Storage(db_path)
    assert storage.ping()
    storage.close()
    assert not storage.ping()
