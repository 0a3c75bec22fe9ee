"""The notifier: each kind reaches each channel only when switched on, sending never blocks the caller,
transient failures are retried with backoff and then given up, permanent ones are given up at once."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from sniper_app.config import Settings, load_settings
from sniper_app.engine.notifications import routing_for
from sniper_app.notify import EmailChannel, Envelope, Notice, NoticeKind, Notifier, Routing, SendError, TrayChannel


class FakeBackend:
    """Records what would have been sent; ``script`` says what each attempt does (None: succeed)."""

    name = "fake"

    def __init__(self, script: list[SendError | None] | None = None, *, hold: asyncio.Event | None = None) -> None:
        self.script = list(script or [])
        self.attempts: list[Envelope] = []
        self.hold = hold
        self.closed = False

    async def send(self, envelope: Envelope) -> str:
        self.attempts.append(envelope)
        if self.hold is not None:
            await self.hold.wait()
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        return f"id-{len(self.attempts)}"

    async def aclose(self) -> None:
        self.closed = True


def run(coro: Callable[[], object]) -> None:
    asyncio.run(asyncio.wait_for(coro(), 20))  # type: ignore[arg-type]


CHANNEL_SETS = [set(), {"tray"}, {"email"}, {"tray", "email"}]


@pytest.mark.parametrize(("kind", "channels"), list(itertools.product(list(NoticeKind), CHANNEL_SETS)))
def test_each_kind_reaches_each_channel_only_when_switched_on(kind: NoticeKind, channels: set[str]) -> None:
    async def main() -> None:
        shown: list[Notice] = []
        tray = TrayChannel()
        tray.set_sink(shown.append)
        backend = FakeBackend()
        # Every other kind is switched on everywhere: only this kind's own switches may decide.
        others = [k for k in NoticeKind if k is not kind]
        routing = Routing(
            tray=frozenset(others + ([kind] if "tray" in channels else [])),
            email=frozenset(others + ([kind] if "email" in channels else [])),
        )
        notifier = Notifier(tray=tray, email=EmailChannel(backend, to="me@example.com"), routing=routing)
        await notifier.start()
        try:
            notifier.notify(Notice(kind=kind, title="Item"))
            await notifier.idle()
        finally:
            await notifier.stop()
        assert [n.kind for n in shown] == ([kind] if "tray" in channels else [])
        assert len(backend.attempts) == (1 if "email" in channels else 0)
        if "email" in channels:
            assert backend.attempts[0].to == "me@example.com"
            assert backend.attempts[0].content.subject

    run(main)


def test_routing_follows_the_settings(tmp_path: Path) -> None:
    env = {
        "SNIPER_NOTIFY_TRAY_TYPES": "bid_won, AUCTION_ENDING",
        "SNIPER_NOTIFY_EMAIL_TYPES": "BID_LOST",
        "SNIPER_NOTIFY_EMAIL": "true",
        "SNIPER_EMAIL_BACKEND": "smtp",
    }
    settings = load_settings(env, path=tmp_path / "none.json")
    routing = routing_for(settings)
    assert routing.tray == {NoticeKind.BID_WON, NoticeKind.AUCTION_ENDING}
    assert routing.email == {NoticeKind.BID_LOST}
    # The master switches win over the per-type lists.
    off = settings.model_copy(update={"notify_tray": False, "email_backend": "none"})
    assert routing_for(off) == Routing()
    assert routing_for(Settings()).email == frozenset()  # email is off until the user sets it up


def test_a_slow_mail_server_never_blocks_notify() -> None:
    async def main() -> None:
        hold = asyncio.Event()
        backend = FakeBackend(hold=hold)
        shown: list[Notice] = []
        tray = TrayChannel()
        tray.set_sink(shown.append)
        notifier = Notifier(tray=tray, email=EmailChannel(backend, to="me@example.com"),
                            routing=Routing.of(["BID_WON"], ["BID_WON"]))
        await notifier.start()
        try:
            loop = asyncio.get_running_loop()
            started = loop.time()
            for _ in range(20):
                notifier.notify(Notice(kind=NoticeKind.BID_WON, title="Item"))
            assert loop.time() - started < 0.05
            assert len(shown) == 20  # the tray saw every one at once
            hold.set()
            await notifier.idle()
            assert notifier.sent == 20
        finally:
            await notifier.stop()
        assert backend.closed

    run(main)


def test_transient_failures_are_retried_with_backoff_then_sent() -> None:
    async def main() -> None:
        backend = FakeBackend([SendError("busy", transient=True), SendError("busy", transient=True)])
        failures: list[tuple[Notice, str]] = []
        notifier = Notifier(email=EmailChannel(backend, to="me@example.com"), routing=Routing.of([], ["BID_WON"]),
                            on_failure=lambda n, r, _c: failures.append((n, r)), retry_delays=(0.05, 0.1, 5))
        await notifier.start()
        try:
            loop = asyncio.get_running_loop()
            started = loop.time()
            notifier.notify(Notice(kind=NoticeKind.BID_WON, title="Item"))
            await notifier.idle()
            assert loop.time() - started >= 0.15  # the two first delays were honoured
        finally:
            await notifier.stop()
        assert len(backend.attempts) == 3
        assert notifier.sent == 1
        assert failures == []

    run(main)


def test_transient_failures_are_given_up_after_the_bound() -> None:
    async def main() -> None:
        backend = FakeBackend([SendError("The mail server answered 451: try later.", transient=True)] * 10)
        failures: list[tuple[Notice, str]] = []
        notifier = Notifier(email=EmailChannel(backend, to="me@example.com"), routing=Routing.of([], ["BID_LOST"]),
                            on_failure=lambda n, r, _c: failures.append((n, r)), retry_delays=(0, 0, 0))
        await notifier.start()
        try:
            notifier.notify(Notice(kind=NoticeKind.BID_LOST, title="Item", snipe_id=3))
            await notifier.idle()
        finally:
            await notifier.stop()
        assert len(backend.attempts) == 4
        assert len(failures) == 1
        notice, reason = failures[0]
        assert notice.snipe_id == 3
        assert reason == "The mail server answered 451: try later. (gave up after 4 attempts)"

    run(main)


def test_a_permanent_failure_is_not_retried() -> None:
    async def main() -> None:
        backend = FakeBackend([SendError("Postmark refused the server token.", transient=False)])
        failures: list[str] = []
        notifier = Notifier(email=EmailChannel(backend, to="me@example.com"), routing=Routing.of([], ["BID_FAILED"]),
                            on_failure=lambda n, r, _c: failures.append(r), retry_delays=(0, 0, 0))
        await notifier.start()
        try:
            notifier.notify(Notice(kind=NoticeKind.BID_FAILED, title="Item"))
            await notifier.idle()
        finally:
            await notifier.stop()
        assert len(backend.attempts) == 1
        assert failures == ["Postmark refused the server token."]

    run(main)


def test_a_broken_tray_sink_does_not_stop_email() -> None:
    async def main() -> None:
        def broken(notice: Notice) -> None:
            raise RuntimeError("window gone")

        tray = TrayChannel()
        tray.set_sink(broken)
        backend = FakeBackend()
        notifier = Notifier(tray=tray, email=EmailChannel(backend, to="me@example.com"),
                            routing=Routing.of(["BID_WON"], ["BID_WON"]))
        await notifier.start()
        try:
            notifier.notify(Notice(kind=NoticeKind.BID_WON, title="Item"))
            await notifier.idle()
        finally:
            await notifier.stop()
        assert len(backend.attempts) == 1
        tray.set_sink(None)
        assert not tray.deliver(Notice(kind=NoticeKind.BID_WON))

    run(main)
