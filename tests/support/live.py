"""A live window rig: a qasync loop on the test's QApplication, the simulator over loopback HTTP, a real
store and keyring, a started engine and the :class:`SniperService` the window drives.

pytest-qt does not drive an asyncio loop, so a live test is one coroutine run on a qasync loop; while it
awaits, Qt processes events (clicks, timers, repaints) and the engine's tasks run, as in the real app.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from sniper_app.bootstrap import AppContext, Runtime
from sniper_app.config import Settings
from sniper_app.ebay import SecretStore
from sniper_app.engine.bus import Event, EventBus
from sniper_app.engine.engine import Engine
from sniper_app.engine.service import SniperService
from sniper_app.simulator import SimulatorServer
from sniper_app.store import Store
from sniper_app.ui.launch import qasync_loop
from sniper_app.ui.qt import QtCore, QtWidgets
from sniper_app.ui.shell import Shell, run_shell
from tests.support.engine import FAST, engine_settings, link_demo, new_client

T = TypeVar("T")


# Closed loops are kept for the whole session. qasync's close() only marks its timer object stopped: the Qt
# timers it registered keep firing (each then kills itself) during later tests' event processing. Were the
# loop collected by a garbage collection that happens to run inside one of those timer events, the timer
# object would be deleted under its own event handler and the process would crash at a random later test.
_RETIRED_LOOPS: list[object] = []


def _retire(loop: object) -> None:
    timer = getattr(loop, "_timer", None)
    pending = getattr(timer, "_SimpleTimer__callbacks", None)  # qasync's registry of its Qt timers
    if isinstance(timer, QtCore.QObject) and isinstance(pending, dict):
        for timer_id in list(pending):
            timer.killTimer(timer_id)
        pending.clear()
    _RETIRED_LOOPS.append(loop)


@pytest.fixture
def qloop(qapp: QtWidgets.QApplication) -> Iterator[Callable[[Coroutine[Any, Any, T]], T]]:
    """``run(coro)``: run a coroutine to completion on a qasync loop over the test's QApplication."""
    # As in the app: closing a window or a dialog must not end the loop (the tray keeps the app alive).
    qapp.setQuitOnLastWindowClosed(False)
    used: list[asyncio.AbstractEventLoop] = []
    try:
        with qasync_loop(qapp) as loop:
            used.append(loop)

            def run(coro: Coroutine[Any, Any, T], timeout_s: float = 60.0) -> T:
                return loop.run_until_complete(asyncio.wait_for(coro, timeout_s))

            yield run
    finally:
        for closed in used:
            _retire(closed)
        # qasync leaves its timers and threads in reference cycles; collected later, at a random moment,
        # a timer can fire into freed memory. Collect them now, while nothing else is running.
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
        gc.collect()


@dataclass
class Live:
    sim: SimulatorServer
    store: Store
    settings: Settings
    user_id: int
    service: SniperService
    engine: Engine
    bus: EventBus
    events: list[Event]

    def bids(self) -> list[dict[str, Any]]:
        """Every placeProxyBid request that reached the simulator."""
        return [r for r in self.sim.requests() if r["path"].endswith("/place_proxy_bid")]


@asynccontextmanager
async def live_service(
    sim: SimulatorServer, data_dir: Path, *, linked: bool = True, **engine_kw: Any
) -> AsyncIterator[Live]:
    """A started engine and its facade; ``linked`` links the simulator's demo user first."""
    store = Store.open(data_dir)
    client = new_client(sim)
    bus = EventBus()
    events: list[Event] = []
    bus.subscribe(Event, events.append)
    settings = engine_settings(sim, data_dir)
    try:
        user_id = await link_demo(client, store) if linked else int(store.get_or_create_user().id)
        ctx = AppContext(settings, store, user_id, SecretStore("simulator"), bus=bus)
        runtime = Runtime(ctx, client=client, engine_options=FAST | engine_kw, notices=False)
        await runtime.start()
        try:
            yield Live(sim, store, settings, user_id, runtime.service, runtime.engine, bus, events)
        finally:
            await runtime.stop()
    finally:
        await client.aclose()
        store.close()


def drive_window(
    qloop: Callable[[Coroutine[Any, Any, T]], T], ctx: AppContext,
    drive: Callable[[Shell], Coroutine[Any, Any, None]],
) -> int:
    """Run the window session on ``ctx`` with ``drive`` acting as the user once it is ready, and end the
    session when ``drive`` ends; returns the session's exit code, raising what ``drive`` raised."""
    tasks: set[asyncio.Task[None]] = set()

    async def drive_then_stop(shell: Shell) -> None:
        try:
            await drive(shell)
        finally:
            shell.stop.set()

    def ready(shell: Shell) -> None:
        tasks.add(asyncio.get_running_loop().create_task(drive_then_stop(shell)))

    code = qloop(run_shell(ctx, tray_available=False, on_ready=ready, engine_options={"preflight_s": 2.0}))
    for task in tasks:
        task.result()  # a failed assertion in the drive surfaces here
    return code
