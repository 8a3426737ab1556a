"""`frontline run --workers N`: N processes serving one listening socket.

The parent binds the port, then forks the workers; each builds its own engine,
platforms, outbox and scheduler and serves the inherited socket (the kernel
spreads connections among them). Everything they share is in the database. A
worker runs in its own process group, so a Ctrl-C reaches the parent only, which
asks every worker once (SIGTERM) to stop gracefully and waits for them. A worker
that dies while the others serve is replaced, unless it failed by itself at its
start (a broken setup would only fail again): then the rest are stopped too.
`ended` hears of every worker that has ended (the metrics' bookkeeping).
"""

import contextlib
import logging
import os
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable

log = logging.getLogger(__name__)
SHORT_LIFE = 10.0  # seconds: a worker that fails sooner did not start properly


def _fork(serve_one: Callable[[socket.socket], None], sock: socket.socket) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        os.setpgid(0, 0)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        serve_one(sock)
    except KeyboardInterrupt:
        pass
    except BaseException as error:  # one line, as the CLI does, then the traceback
        print(f"frontline worker {os.getpid()}: {error}", file=sys.stderr)
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def supervise(count: int, sock: socket.socket, serve_one: Callable[[socket.socket], None],
              ended: Callable[[int], None] = lambda pid: None) -> int:
    """Run `count` workers until asked to stop; returns the exit status."""
    started: dict[int, float] = {}
    stopping = False
    failed = False

    def stop(*_args) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            for pid in started:
                _signal(pid, signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for _ in range(count):
            started[_fork(serve_one, sock)] = time.monotonic()
        print(f"Frontline: {count} workers serving (pids {', '.join(map(str, started))})",
              flush=True)
        while started:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            born = started.pop(pid, None)
            if born is not None:
                ended(pid)
            if born is None or stopping:
                continue
            code = os.waitstatus_to_exitcode(status)
            young = time.monotonic() - born < SHORT_LIFE
            if young and code > 0:  # it gave up by itself: it would only fail again
                print(f"frontline: worker {pid} failed at its start ({code}); stopping",
                      file=sys.stderr, flush=True)
                failed = True
                stop()
                continue
            print(f"frontline: worker {pid} ended ({code}); starting another",
                  file=sys.stderr, flush=True)
            if young:
                time.sleep(1)  # killed as soon as started: do not spin
                if stopping:  # asked to stop meanwhile: no new worker
                    continue
            started[_fork(serve_one, sock)] = time.monotonic()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 1 if failed else 0


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it has ended already
        os.kill(pid, sig)
