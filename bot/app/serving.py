"""Where the web app listens. The port is taken before anything else starts, so a
port in use stops the start with one line rather than a server traceback later."""

import errno
import socket
import threading

from fastapi import FastAPI

from bot.kit.config import ConfigError, Web


def listen(web: Web, *, taken_is_fine: bool = False) -> socket.socket | None:
    """Bind `[web] host` and `port` now; the server started later serves this socket.
    A port in use is a ConfigError, or None when `taken_is_fine`."""
    family = socket.AF_INET6 if ":" in web.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    # As uvicorn does: a port whose last connections are still closing counts as free.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((web.host, web.port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE and taken_is_fine:
            return None
        if error.errno == errno.EADDRINUSE:
            raise ConfigError(f"web.port: {web.port} is in use on {web.host} (is Frontline "
                              "already running? choose another [web] port)") from None
        raise ConfigError(f"web.host: cannot listen on {web.host}:{web.port} "
                          f"({error.strerror})") from None
    sock.listen(2048)  # from now on a browser waits in the queue rather than being refused
    return sock


def serve(app: FastAPI, web: Web, sock: socket.socket, *, background: bool = False) -> None:
    """Serve `app` on the socket `listen` bound: in this thread, or in a daemon thread
    beside the local console."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host=web.host, port=web.port,
                                           log_level="warning" if background else "info"))
    if background:
        threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="web-console",
                         daemon=True).start()
    else:
        server.run(sockets=[sock])
