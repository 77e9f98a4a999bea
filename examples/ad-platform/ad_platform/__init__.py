"""The ad platform the reference pipeline ships: a campaign API and a bidding endpoint."""

from ad_platform.app import create_app
from ad_platform.settings import Settings

__all__ = ["create_app", "Settings"]
