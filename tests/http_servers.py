"""Real HTTP on loopback for adapter tests: run an ASGI app with uvicorn in a thread."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn


@contextmanager
def serve(app, lifespan: str = "off", lifetime: float | None = None) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 at a free port; yields its base URL. With
    lifespan="on" the app's start and stop hooks run too; with `lifetime` the
    server stops by itself after that many seconds."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan=lifespan, timeout_graceful_shutdown=1))

    def stop() -> None:
        server.should_exit = True

    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    expiry = threading.Timer(lifetime or 0, stop)
    expiry.daemon = True
    if lifetime:
        expiry.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        expiry.cancel()
        stop()
        thread.join(timeout=10)
