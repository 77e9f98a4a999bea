"""The real service over HTTP: `python -m ad_platform` (uvicorn) on a free loopback port."""

import os
import signal
import socket
import subprocess  # nosec B404 - starts the service under test with an argument list
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import httpx2
import pytest

from tests.conftest import ALICE_TOKEN, BOB_TOKEN

EXAMPLE_DIR = Path(__file__).resolve().parents[2]


@dataclass
class Server:
    process: subprocess.Popen[str]
    base_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


# After its graceful shutdown uvicorn re-raises the signal it caught, so the parent sees "killed by
# SIGTERM" (as with any default handler); the log says whether the shutdown was the graceful one.
STOPPED_BY_SIGTERM = -signal.SIGTERM


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def answers(url: str) -> bool:
    try:
        return httpx2.get(url, timeout=1).status_code < 600
    except httpx2.TransportError:
        return False


StartServer = Callable[..., Server]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    servers: list[Server] = []

    def start(wait: str | None = "/health", **env: str) -> Server:
        port = free_port()
        log_path = tmp_path / f"server-{port}.log"
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "DB_PATH": str(tmp_path / "campaigns.db"),
            "API_TOKENS": f"alice={ALICE_TOKEN},bob={BOB_TOKEN}",
            "APP_VERSION": "it",
            **env,
        }
        with log_path.open("w") as log:
            process = subprocess.Popen(  # nosec B603 - fixed argument list, no shell
                [sys.executable, "-m", "ad_platform"],
                cwd=EXAMPLE_DIR,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )
        server = Server(process, f"http://127.0.0.1:{port}", log_path)
        servers.append(server)
        if wait is not None:
            wait_until(lambda: answers(server.base_url + wait) or process.poll() is not None, 30, "the server")
            assert process.poll() is None, server.log()
        return server

    yield start
    for server in servers:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()
