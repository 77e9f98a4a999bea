"""Request and response bodies; validation errors become 422 with the field named."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

Device = Literal["desktop", "mobile", "tablet"]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Money = Annotated[Decimal, Field(gt=0, le=Decimal("1000000000"), decimal_places=2)]


class Targeting(BaseModel):
    model_config = ConfigDict(extra="forbid")

    countries: list[Country] = Field(default_factory=list, max_length=50)
    devices: list[Device] = Field(default_factory=list, max_length=3)

    @field_validator("countries", "devices")
    @classmethod
    def unique(cls, values: list[str]) -> list[str]:
        if len(set(values)) != len(values):
            raise ValueError("must not repeat a value")
        return values


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    budget: Money
    bid: Money
    start_date: date
    end_date: date
    targeting: Targeting = Field(default_factory=Targeting)
    active: bool = True

    @model_validator(mode="after")
    def consistent(self) -> CampaignIn:
        if self.end_date < self.start_date:
            raise ValueError("end_date must not be before start_date")
        if self.bid > self.budget:
            raise ValueError("bid must not exceed budget")
        return self


class CampaignOut(BaseModel):
    id: int
    owner: str
    name: str
    budget: float
    remaining_budget: float
    bid: float
    start_date: date
    end_date: date
    targeting: Targeting
    active: bool


class CampaignPage(BaseModel):
    items: list[CampaignOut]
    total: int
    limit: int
    offset: int


class BidRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    country: Country
    device: Device


class BidResponse(BaseModel):
    campaign_id: int
    price: float
    remaining_budget: float
