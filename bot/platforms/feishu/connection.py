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
            self.client.start()  # connects (retrying), then serves until stop()
        except asyncio.CancelledError:  # stop() ended it
            pass
        except Exception:
            log.exception("the Feishu long connection stopped")
        finally:
            self.loop.close()

    def ready(self) -> bool:
        return getattr(self.client, "_conn", None) is not None

    async def _close(self) -> None:
        """The SDK has no public close: end its receiving and pinging, close the socket,
        then end the wait that keeps `start()` running."""
        self.client._auto_reconnect = False
        mine = asyncio.current_task()
        waits = [t for t in asyncio.all_tasks() if t.get_coro().__name__ == "_select"]
        others = [t for t in asyncio.all_tasks() if t is not mine and t not in waits]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        await self.client._disconnect()
        for task in waits:
            task.cancel()

    def stop(self) -> None:
        if self.loop is None or self.thread is None or self.loop.is_closed():
            return
        try:
            asyncio.run_coroutine_threadsafe(self._close(), self.loop).result(5)
        except Exception:
            log.warning("the Feishu long connection did not close cleanly")
        self.thread.join(5)
