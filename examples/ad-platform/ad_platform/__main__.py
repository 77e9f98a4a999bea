"""`python -m ad_platform`: serve with uvicorn, stopping gracefully on SIGTERM.

On SIGTERM the server stops accepting, answers `Connection: close` for SHUTDOWN_DRAIN so busy
keep-alive clients move on by themselves, then uvicorn closes the idle connections and lets
requests in flight finish for up to GRACEFUL_TIMEOUT; the manifest's preStop sleep runs before
that, so endpoints have moved away by the time the listener closes. Connections older than
CONNECTION_MAX_AGE are answered `Connection: close` too (see connections.py: why a blue-green
switch needs it).
"""

from __future__ import annotations

import sys

import uvicorn

from ad_platform.app import create_app
from ad_platform.connections import ConnectionLifetime, DrainingServer
from ad_platform.settings import Settings, SettingsError


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"ad-platform: {error}", file=sys.stderr)
        return 2
    lifetime = ConnectionLifetime(create_app(settings), max_age=settings.connection_max_age)
    config = uvicorn.Config(
        lifetime,
        host=settings.host,
        port=settings.port,
        timeout_graceful_shutdown=int(settings.graceful_timeout),
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        server_header=False,
    )
    DrainingServer(config, lifetime, drain=settings.shutdown_drain).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
