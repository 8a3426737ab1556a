"""Long-connection mode: lark-oapi's WebSocket client, in a thread of its own.

The SDK's client runs on an event loop its module creates at import and blocks in
`start()`; so it gets a thread, and that module loop is replaced by one owned by the
thread before it starts (the web app's loop may be the one the module found).
Feishu hands each event to one of an app's connections, so several Frontline
workers may each keep one."""

import asyncio
import logging
import threading

import lark_oapi as lark
from lark_oapi.ws import client as ws

log = logging.getLogger(__name__)


class LongConnection:
    def __init__(self, app_id: str, app_secret: str, domain: str,
                 handler: lark.EventDispatcherHandler) -> None:
        self.client = ws.Client(app_id, app_secret, event_handler=handler, domain=domain,
                                log_level=lark.LogLevel.WARNING)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="feishu-long-connection",
                                       daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        ws.loop = self.loop  # the SDK schedules everything on its module's loop
        try:
            self.client.start()  # connects (retrying), then serves until the loop stops
        except RuntimeError:  # "Event loop stopped before Future completed": stop()
            pass
        except Exception:
            log.exception("the Feishu long connection stopped")

    def ready(self) -> bool:
        return getattr(self.client, "_conn", None) is not None

    def stop(self) -> None:
        if self.loop is None or self.thread is None:
            return
        self.client._auto_reconnect = False  # the SDK has no public close
        try:
            asyncio.run_coroutine_threadsafe(self.client._disconnect(), self.loop).result(5)
        except Exception:
            log.warning("the Feishu long connection did not close cleanly")
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
