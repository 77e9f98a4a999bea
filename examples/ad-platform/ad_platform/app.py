"""The FastAPI application: campaign API, /bid, health, readiness and metrics."""

import asyncio
import hmac
import threading
from contextlib import asynccontextmanager
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Annotated, AsyncIterator, Callable

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ad_platform.metrics import Metrics, MetricsMiddleware
from ad_platform.models import BidRequest, BidResponse, CampaignIn, CampaignOut, CampaignPage, Targeting
from ad_platform.settings import Settings
from ad_platform.storage import CampaignFields, CampaignRecord, NotFound, NotOwner, Storage


def utc_today() -> date:
    return datetime.now(timezone.utc).date()


class InjectedFailures:
    """ERROR_RATE as an exact fraction: request n fails when floor(n*rate) grows, so 0.25 fails
    every fourth request instead of a random quarter (reproducible demos, no flaky tests)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._count = 0
        self._lock = threading.Lock()

    def next_fails(self) -> bool:
        if self.rate <= 0:
            return False
        with self._lock:
            before = int(self._count * self.rate)
            self._count += 1
            return int(self._count * self.rate) > before


def cents(amount: Decimal) -> int:
    return int(amount * 100)


def to_fields(body: CampaignIn) -> CampaignFields:
    return CampaignFields(
        name=body.name,
        budget_cents=cents(body.budget),
        bid_cents=cents(body.bid),
        start_date=body.start_date,
        end_date=body.end_date,
        countries=body.targeting.countries,
        devices=body.targeting.devices,
        active=body.active,
    )


def to_out(record: CampaignRecord) -> CampaignOut:
    return CampaignOut(
        id=record.id,
        owner=record.owner,
        name=record.name,
        budget=record.budget_cents / 100,
        remaining_budget=record.remaining_cents / 100,
        bid=record.bid_cents / 100,
        start_date=record.start_date,
        end_date=record.end_date,
        targeting=Targeting(countries=list(record.countries), devices=list(record.devices)),
        active=record.active,
    )


def create_app(settings: Settings, today: Callable[[], date] = utc_today) -> FastAPI:
    metrics = Metrics(settings.app_version)
    failures = InjectedFailures(settings.error_rate)
    state: dict[str, Storage] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if settings.startup_delay > 0:
            # A slow start as a bad release has it: nothing listens until this is over.
            await asyncio.sleep(settings.startup_delay)
        state["storage"] = Storage(settings.db_path)
        try:
            yield
        finally:
            state.pop("storage").close()

    def storage() -> Storage:
        return state["storage"]

    def owner_of(request: Request) -> str:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise HTTPException(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
        owner = None
        for known, name in settings.tokens.items():
            # Compare every token in constant time, so timing does not tell how close a guess was.
            if hmac.compare_digest(known.encode(), token.strip().encode()):
                owner = name
        if owner is None:
            raise HTTPException(
                401, "the bearer token is not valid", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )
        return owner

    def injected_failure() -> None:
        if failures.next_fails():
            raise HTTPException(500, "injected failure (ERROR_RATE)")

    Db = Annotated[Storage, Depends(storage)]
    Owner = Annotated[str, Depends(owner_of)]

    campaigns = APIRouter(prefix="/campaigns", tags=["campaigns"], dependencies=[Depends(injected_failure)])

    @campaigns.post("", status_code=201, response_model=CampaignOut)
    async def create_campaign(body: CampaignIn, owner: Owner, db: Db, response: Response) -> CampaignOut:
        record = db.create(owner, to_fields(body))
        response.headers["Location"] = f"/campaigns/{record.id}"
        return to_out(record)

    @campaigns.get("", response_model=CampaignPage)
    async def list_campaigns(
        db: Db,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> CampaignPage:
        records, total = db.list(limit, offset)
        return CampaignPage(items=[to_out(r) for r in records], total=total, limit=limit, offset=offset)

    @campaigns.get("/{campaign_id}", response_model=CampaignOut)
    async def get_campaign(campaign_id: int, db: Db) -> CampaignOut:
        return to_out(db.get(campaign_id))

    @campaigns.put("/{campaign_id}", response_model=CampaignOut)
    async def update_campaign(campaign_id: int, body: CampaignIn, owner: Owner, db: Db) -> CampaignOut:
        return to_out(db.update(campaign_id, owner, to_fields(body)))

    @campaigns.delete("/{campaign_id}", status_code=204)
    async def delete_campaign(campaign_id: int, owner: Owner, db: Db) -> Response:
        db.delete(campaign_id, owner)
        return Response(status_code=204)

    app = FastAPI(title="ad-platform", version=settings.app_version, lifespan=lifespan)
    app.include_router(campaigns)

    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": f"campaign {exc.args[0]} not found"}, status_code=404)

    @app.exception_handler(NotOwner)
    async def not_owner(_: Request, exc: NotOwner) -> JSONResponse:
        return JSONResponse({"detail": f"campaign {exc.args[0]} belongs to another owner"}, status_code=403)

    @app.post("/bid", response_model=BidResponse, responses={204: {"description": "no campaign matches"}})
    async def bid(body: BidRequest, db: Db) -> BidResponse | Response:
        if settings.extra_latency > 0:
            await asyncio.sleep(settings.extra_latency)
        won = db.bid(body.country, body.device, today())
        metrics.bids.labels("won" if won else "no_match", settings.app_version).inc()
        if won is None:
            return Response(status_code=204)
        return BidResponse(
            campaign_id=won.campaign_id, price=won.price_cents / 100, remaining_budget=won.remaining_cents / 100
        )

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": settings.app_version}

    @app.get("/ready")
    async def ready() -> JSONResponse:
        if settings.fail_readiness:
            return JSONResponse({"status": "not ready", "reason": "FAIL_READINESS is set"}, status_code=503)
        if "storage" not in state or not state["storage"].ping():
            return JSONResponse({"status": "not ready", "reason": "storage is not reachable"}, status_code=503)
        return JSONResponse({"status": "ready", "version": settings.app_version})

    @app.get("/metrics")
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app
