"""Routing notices to the channels the user switched on, without ever holding up the engine.

``Notifier.notify`` is synchronous and returns at once: the tray sink is called in place (it only posts to
the window), email goes onto a queue that a worker task drains. A transient failure is retried with
backoff, a bounded number of times; then, or at once for a permanent failure, ``on_failure`` is called so
the failure lands in the history and in the window.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from sniper_app.domain.redact import redact
from sniper_app.notify.email import EmailBackend, Envelope, SendError
from sniper_app.notify.notice import Notice, NoticeKind
from sniper_app.notify.render import EmailRenderer, RenderedEmail

log = logging.getLogger(__name__)

TraySink = Callable[[Notice], None]
FailureHandler = Callable[[Notice, str], None]

# Backoff between attempts: a mail server that is down for a restart is back within minutes.
DEFAULT_RETRY_DELAYS: tuple[float, ...] = (5.0, 30.0, 120.0, 600.0)
MAX_QUEUED = 500
PARALLEL_SENDS = 2


class TrayChannel:
    """Hands notices to whatever shows them (the window's tray icon); without a sink they are dropped."""

    name = "tray"

    def __init__(self) -> None:
        self._sink: TraySink | None = None

    def set_sink(self, sink: TraySink | None) -> None:
        self._sink = sink

    def deliver(self, notice: Notice) -> bool:
        sink = self._sink
        if sink is None:
            return False
        sink(notice)
        return True


class EmailChannel:
    """Renders a notice and sends it through one backend to one address."""

    name = "email"

    def __init__(
        self, backend: EmailBackend, *, to: str, sender: str | None = None, renderer: EmailRenderer | None = None
    ) -> None:
        self.backend = backend
        self.to = to
        self.sender = sender or to
        self.renderer = renderer or EmailRenderer()

    async def send(self, notice: Notice) -> str:
        return await self.backend.send(Envelope(self.sender, self.to, self.renderer.render(notice)))

    async def send_test(self) -> str:
        content = RenderedEmail(
            subject="Sniper test email",
            text="This is a test from Sniper. If you can read it, email notifications work.\n",
            html="<p>This is a test from <b>Sniper</b>. If you can read it, email notifications work.</p>\n",
        )
        return await self.backend.send(Envelope(self.sender, self.to, content))

    async def aclose(self) -> None:
        await self.backend.aclose()


@dataclass(frozen=True, slots=True)
class Routing:
    """Which kinds go to which channel."""

    tray: frozenset[NoticeKind] = frozenset()
    email: frozenset[NoticeKind] = frozenset()

    @classmethod
    def of(cls, tray: Collection[str], email: Collection[str]) -> Routing:
        return cls(frozenset(NoticeKind(k) for k in tray), frozenset(NoticeKind(k) for k in email))


class Notifier:
    def __init__(
        self,
        *,
        tray: TrayChannel | None = None,
        email: EmailChannel | None = None,
        routing: Routing | None = None,
        on_failure: FailureHandler | None = None,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        max_queued: int = MAX_QUEUED,
    ) -> None:
        self.tray = tray or TrayChannel()
        self.email = email
        self.routing = routing or Routing()
        self.on_failure = on_failure
        self.retry_delays = tuple(retry_delays)
        self._queue: asyncio.Queue[Notice] = asyncio.Queue(max_queued)
        self._worker: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._slots: asyncio.Semaphore | None = None
        self._retired: list[EmailChannel] = []
        self._pending = 0  # queued or being sent
        self.sent = 0
        self.failed = 0

    # --- configuration ------------------------------------------------------------------------------

    def reconfigure(self, *, email: EmailChannel | None, routing: Routing) -> None:
        """New settings: queued notices go out through the new channel; the old one is closed at stop."""
        if self.email is not None and self.email is not email:
            self._retired.append(self.email)
        self.email = email
        self.routing = routing

    # --- the entry point ------------------------------------------------------------------------------

    def notify(self, notice: Notice) -> None:
        """Route ``notice``; never raises and never waits."""
        if notice.kind in self.routing.tray:
            try:
                self.tray.deliver(notice)
            except Exception:
                log.exception("The tray could not show a %s notice", notice.kind.value)
        if notice.kind in self.routing.email and self.email is not None:
            try:
                self._queue.put_nowait(notice)
                self._pending += 1
            except asyncio.QueueFull:
                self._give_up(notice, "Too many emails are waiting to be sent; this one was dropped.")

    # --- lifecycle ------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._worker is None:
            self._slots = asyncio.Semaphore(PARALLEL_SENDS)
            self._worker = asyncio.get_running_loop().create_task(self._drain(), name="notifier")

    async def stop(self) -> None:
        worker, self._worker = self._worker, None
        tasks = [t for t in (worker, *self._sending) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for channel in (*self._retired, self.email):
            if channel is not None:
                with contextlib.suppress(Exception):
                    await channel.aclose()
        self._retired.clear()

    async def idle(self) -> None:
        """Wait until nothing is queued or being sent (tests and the CLI use it)."""
        while self._pending:
            await asyncio.sleep(0.02)

    async def send_test(self) -> str:
        """Send one test email now, no retries: the caller shows the outcome to the user."""
        if self.email is None:
            raise SendError("Email is switched off: choose SMTP or Postmark in Settings › Email.", transient=False)
        return await self.email.send_test()

    # --- the worker -----------------------------------------------------------------------------------

    async def _drain(self) -> None:
        assert self._slots is not None
        while True:
            notice = await self._queue.get()
            await self._slots.acquire()
            task = asyncio.get_running_loop().create_task(self._deliver(notice))
            self._sending.add(task)
            task.add_done_callback(self._sent)
            self._queue.task_done()

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self._pending -= 1
        if self._slots is not None:
            self._slots.release()

    async def _deliver(self, notice: Notice) -> None:
        attempts = len(self.retry_delays) + 1
        for attempt in range(1, attempts + 1):
            channel = self.email
            if channel is None or notice.kind not in self.routing.email:
                return  # switched off while it waited
            try:
                message_id = await channel.send(notice)
            except SendError as exc:
                reason = str(exc)
                if not exc.transient:
                    self._give_up(notice, reason)
                    return
                if attempt == attempts:
                    self._give_up(notice, f"{reason} (gave up after {attempts} attempts)")
                    return
                delay = self.retry_delays[attempt - 1]
                log.warning("Email about %s failed (attempt %d of %d), retrying in %.0f s: %s",
                            notice.kind.value, attempt, attempts, delay, reason)
                await asyncio.sleep(delay)
            except Exception as exc:  # a bug in a template or backend must not kill the worker
                log.exception("Email about %s could not be prepared", notice.kind.value)
                self._give_up(notice, redact(f"The email could not be prepared ({type(exc).__name__})."))
                return
            else:
                self.sent += 1
                log.info("Emailed %s about snipe %s (%s)", notice.kind.value, notice.snipe_id, message_id)
                return

    def _give_up(self, notice: Notice, reason: str) -> None:
        self.failed += 1
        log.warning("Gave up emailing %s about snipe %s: %s", notice.kind.value, notice.snipe_id, reason)
        if self.on_failure is not None:
            try:
                self.on_failure(notice, reason)
            except Exception:
                log.exception("Recording a failed email failed")
