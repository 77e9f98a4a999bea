"""Settings from the environment, read and validated in one place before the app starts.

The release knobs (STARTUP_DELAY, FAIL_READINESS, ERROR_RATE, EXTRA_LATENCY) exist so a
demo can ship a bad release through a manifest's env; no code path special-cases tests.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Mapping


class SettingsError(ValueError):
    """An environment variable has a value the service cannot use; the message names it."""


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$")
# A container listens on all its interfaces.
ALL_INTERFACES = "0.0.0.0"  # nosec B104
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def parse_duration(name: str, value: str) -> float:
    """Seconds from '250ms', '2s', '1m' or a bare number of seconds."""
    match = _DURATION.match(value)
    if not match:
        raise SettingsError(f"{name}: {value!r} is not a duration (e.g. 250ms, 2s, 0.5)")
    number = float(match.group(1))
    unit = match.group(2) or "s"
    return number / 1000 if unit == "ms" else number * 60 if unit == "m" else number


def parse_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise SettingsError(f"{name}: {value!r} is not a boolean (true/false)")


def parse_fraction(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise SettingsError(f"{name}: {value!r} is not a number between 0 and 1") from None
    if not 0 <= number <= 1:
        raise SettingsError(f"{name}: {value!r} is not between 0 and 1")
    return number


def parse_tokens(name: str, value: str) -> dict[str, str]:
    """'alice=token1,bob=token2' -> {token: owner}. Token values never appear in errors."""
    tokens: dict[str, str] = {}
    for index, pair in enumerate(p for p in value.split(",") if p.strip()):
        owner, sep, token = pair.strip().partition("=")
        if not sep or not owner or not token:
            raise SettingsError(f"{name}: entry {index + 1} is not owner=token")
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", owner):
            raise SettingsError(f"{name}: entry {index + 1} has an owner that is not 1-64 of [A-Za-z0-9_.-]")
        if len(token) < 16:
            raise SettingsError(f"{name}: the token of {owner!r} is shorter than 16 characters")
        tokens[token] = owner
    return tokens


@dataclass(frozen=True)
class Settings:
    db_path: str = "ad-platform.db"
    app_version: str = "dev"
    tokens: Mapping[str, str] = field(default_factory=dict)
    host: str = ALL_INTERFACES
    port: int = 8080
    graceful_timeout: float = 20.0
    connection_max_age: float = 5.0
    shutdown_drain: float = 2.0
    startup_delay: float = 0.0
    fail_readiness: bool = False
    error_rate: float = 0.0
    extra_latency: float = 0.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        port_text = env.get("PORT", "8080")
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise SettingsError(f"PORT: {port_text!r} is not a port number (1-65535)")
        return cls(
            db_path=env.get("DB_PATH", "ad-platform.db"),
            app_version=env.get("APP_VERSION", "dev") or "dev",
            tokens=parse_tokens("API_TOKENS", env.get("API_TOKENS", "")),
            host=env.get("HOST", ALL_INTERFACES),
            port=int(port_text),
            graceful_timeout=parse_duration("GRACEFUL_TIMEOUT", env.get("GRACEFUL_TIMEOUT", "20s")),
            connection_max_age=parse_duration("CONNECTION_MAX_AGE", env.get("CONNECTION_MAX_AGE", "5s")),
            shutdown_drain=parse_duration("SHUTDOWN_DRAIN", env.get("SHUTDOWN_DRAIN", "2s")),
            startup_delay=parse_duration("STARTUP_DELAY", env.get("STARTUP_DELAY", "0")),
            fail_readiness=parse_bool("FAIL_READINESS", env.get("FAIL_READINESS", "")),
            error_rate=parse_fraction("ERROR_RATE", env.get("ERROR_RATE", "0")),
            extra_latency=parse_duration("EXTRA_LATENCY", env.get("EXTRA_LATENCY", "0")),
        )
