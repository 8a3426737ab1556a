"""Real HTTP on loopback for adapter tests: run an ASGI app with uvicorn in a thread."""

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from tests.support import wait_until


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serve(app, lifespan: str = "off") -> Iterator[str]:
    """Serve `app` on 127.0.0.1 at a free port; yields its base URL. With
    lifespan="on" the app's start and stop hooks run too."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan=lifespan, timeout_graceful_shutdown=1))

    def stop() -> None:
        server.should_exit = True

    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), "test server starting")
    assert server.started, "the test server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop()
        thread.join(timeout=10)
