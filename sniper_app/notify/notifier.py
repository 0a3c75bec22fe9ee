"""Routing notices to the channels the user switched on, without ever holding up the engine.

``Notifier.notify`` is synchronous and returns at once: the tray sink is called in place (it only posts to
the window); email, ntfy and the webhook go onto a queue that a worker task drains. A transient failure is
retried with backoff, a bounded number of times; then, or at once for a permanent failure, ``on_failure``
is called so the failure lands in the history and in the window.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from sniper_app.domain.redact import redact
from sniper_app.notify.email import EmailBackend, Envelope, SendError
from sniper_app.notify.notice import Notice, NoticeKind
from sniper_app.notify.render import EmailRenderer, RenderedEmail

log = logging.getLogger(__name__)

TraySink = Callable[[Notice], None]
# (notice, reason, channel name): the channel is "email", "ntfy" or "webhook".
FailureHandler = Callable[[Notice, str, str], None]

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


class Channel(Protocol):
    """A channel the worker sends through: email, ntfy or the webhook."""

    name: str  # the routing key and the history's "channel"
    noun: str  # what one delivery is called in a sentence: "email", "webhook call"

    async def send(self, notice: Notice) -> str: ...

    async def send_test(self) -> str: ...

    async def aclose(self) -> None: ...


CHANNELS: tuple[str, ...] = ("email", "ntfy", "webhook")


class EmailChannel:
    """Renders a notice and sends it through one backend to one address."""

    name = "email"
    noun = "email"

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
    ntfy: frozenset[NoticeKind] = frozenset()
    webhook: frozenset[NoticeKind] = frozenset()

    @classmethod
    def of(
        cls, tray: Collection[str], email: Collection[str], ntfy: Collection[str] = (), webhook: Collection[str] = ()
    ) -> Routing:
        def kinds(names: Collection[str]) -> frozenset[NoticeKind]:
            return frozenset(NoticeKind(k) for k in names)

        return cls(kinds(tray), kinds(email), kinds(ntfy), kinds(webhook))

    def kinds(self, channel: str) -> frozenset[NoticeKind]:
        kinds: frozenset[NoticeKind] = getattr(self, channel)
        return kinds

    @property
    def anywhere(self) -> frozenset[NoticeKind]:
        return self.tray | self.email | self.ntfy | self.webhook


class Notifier:
    def __init__(
        self,
        *,
        tray: TrayChannel | None = None,
        email: Channel | None = None,
        ntfy: Channel | None = None,
        webhook: Channel | None = None,
        routing: Routing | None = None,
        on_failure: FailureHandler | None = None,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        max_queued: int = MAX_QUEUED,
    ) -> None:
        self.tray = tray or TrayChannel()
        self.email = email
        self.ntfy = ntfy
        self.webhook = webhook
        self.routing = routing or Routing()
        self.on_failure = on_failure
        self.retry_delays = tuple(retry_delays)
        self._queue: asyncio.Queue[tuple[str, Notice]] = asyncio.Queue(max_queued)
        self._worker: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._slots: asyncio.Semaphore | None = None
        self._retired: list[Channel] = []
        self._pending = 0  # queued or being sent
        self.sent = 0
        self.failed = 0

    # --- configuration ------------------------------------------------------------------------------

    def channel(self, name: str) -> Channel | None:
        channel: Channel | None = getattr(self, name)
        return channel

    def reconfigure(
        self, *, email: Channel | None, routing: Routing, ntfy: Channel | None = None, webhook: Channel | None = None
    ) -> None:
        """New settings: queued notices go out through the new channels; the old ones are closed at stop."""
        for name, new in (("email", email), ("ntfy", ntfy), ("webhook", webhook)):
            old = self.channel(name)
            if old is not None and old is not new:
                self._retired.append(old)
            setattr(self, name, new)
        self.routing = routing

    # --- the entry point ------------------------------------------------------------------------------

    def notify(self, notice: Notice) -> None:
        """Route ``notice``; never raises and never waits."""
        if notice.kind in self.routing.tray:
            try:
                self.tray.deliver(notice)
            except Exception:
                log.exception("The tray could not show a %s notice", notice.kind.value)
        for name in CHANNELS:
            channel = self.channel(name)
            if channel is None or notice.kind not in self.routing.kinds(name):
                continue
            try:
                self._queue.put_nowait((name, notice))
                self._pending += 1
            except asyncio.QueueFull:
                self._give_up(notice, f"Too many {channel.noun}s are waiting to be sent; this one was dropped.", name)

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
        for channel in (*self._retired, self.email, self.ntfy, self.webhook):
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
            name, notice = await self._queue.get()
            await self._slots.acquire()
            task = asyncio.get_running_loop().create_task(self._deliver(notice, name))
            self._sending.add(task)
            task.add_done_callback(self._sent)
            self._queue.task_done()

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self._pending -= 1
        if self._slots is not None:
            self._slots.release()

    async def _deliver(self, notice: Notice, name: str = "email") -> None:
        attempts = len(self.retry_delays) + 1
        for attempt in range(1, attempts + 1):
            channel = self.channel(name)
            if channel is None or notice.kind not in self.routing.kinds(name):
                return  # switched off while it waited
            try:
                message_id = await channel.send(notice)
            except SendError as exc:
                reason = str(exc)
                if not exc.transient:
                    self._give_up(notice, reason, name)
                    return
                if attempt == attempts:
                    self._give_up(notice, f"{reason} (gave up after {attempts} attempts)", name)
                    return
                delay = self.retry_delays[attempt - 1]
                log.warning("The %s about %s failed (attempt %d of %d), retrying in %.0f s: %s",
                            channel.noun, notice.kind.value, attempt, attempts, delay, reason)
                await asyncio.sleep(delay)
            except Exception as exc:  # a bug in a template or backend must not kill the worker
                log.exception("The %s about %s could not be prepared", channel.noun, notice.kind.value)
                self._give_up(notice, redact(f"The {channel.noun} could not be prepared ({type(exc).__name__})."), name)
                return
            else:
                self.sent += 1
                log.info("Sent the %s about %s for snipe %s (%s)", channel.noun, notice.kind.value, notice.snipe_id,
                         message_id)
                return

    def _give_up(self, notice: Notice, reason: str, channel: str = "email") -> None:
        self.failed += 1
        log.warning("Gave up the %s about %s for snipe %s: %s", channel, notice.kind.value, notice.snipe_id, reason)
        if self.on_failure is not None:
            try:
                self.on_failure(notice, reason, channel)
            except Exception:
                log.exception("Recording a failed notification failed")
