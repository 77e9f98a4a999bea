"""`python -m ad_platform`: serve with uvicorn, stopping gracefully on SIGTERM.

On SIGTERM uvicorn stops accepting, closes idle keep-alive connections and lets requests in
flight finish for up to GRACEFUL_TIMEOUT; the manifest's preStop sleep runs before that, so
endpoints have moved away by the time the listener closes.
"""

from __future__ import annotations

import sys

import uvicorn

from ad_platform.app import create_app
from ad_platform.settings import Settings, SettingsError


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"ad-platform: {error}", file=sys.stderr)
        return 2
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        timeout_graceful_shutdown=int(settings.graceful_timeout),
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        server_header=False,
    )
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
