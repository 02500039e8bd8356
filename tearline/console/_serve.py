"""Serving the console: in the foreground for ``tearline serve``, or on a thread (tests, screenshots)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import uvicorn

from ._app import create_app
from ._session import Session


def _config(session: Session, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        create_app(session),
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=1,
    )


def serve_console(
    session: Session, host: str = "127.0.0.1", port: int = 8000, on_ready: Callable[[str], None] | None = None
) -> None:
    """Serve until interrupted; ``on_ready`` gets the base address once the exercise has started."""
    server = uvicorn.Server(_config(session, host, port))
    if on_ready is not None:
        base = f"http://{host}:{port}"

        def announce() -> None:
            while not server.started and not server.should_exit:
                time.sleep(0.05)
            if server.started:
                on_ready(base)

        threading.Thread(target=announce, daemon=True).start()
    server.run()


class Background:
    """The console on a thread of this process, on a free port of 127.0.0.1 (for tests and scripts)."""

    def __init__(self, session: Session, *, timeout: float = 30.0) -> None:
        self.session = session
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(_config(session, "127.0.0.1", self.port))
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._timeout = timeout

    def __enter__(self) -> Background:
        self._thread.start()
        deadline = time.monotonic() + self._timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the console did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(self._timeout)
