"""``sniper-app --selftest``: the smoke test every packaged build runs.

Offscreen and self-contained: private temporary dirs and an in-memory keyring (the user's data and secrets
are never touched), the bundled simulator on loopback, the demo account linked through the app's own
consent flow, one snipe on a short auction placed by the real engine on a qasync loop, and the main window
rendered once so a frozen build proves its Qt plugins load. One line per step; exit 0 when the snipe is won.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from keyring.backend import KeyringBackend
from keyring.compat import properties

if TYPE_CHECKING:
    from sniper_app.simulator import SimulatorServer

AUCTION_ENDS_IN_S = 13.0  # past the selftest's 10 s "ends too soon" floor, short enough for a smoke test
LEAD_S = 2.0
START_PRICE = "10.00"
MAX_BID = "25.00"
OVERALL_TIMEOUT_S = 90.0
# The engine's timing knobs compressed to a seconds-long auction (the tests' FAST values).
ENGINE_KNOBS: dict[str, float] = {
    "preflight_s": 2.0,
    "prep_s": 1.0,
    "handover_s": 0.5,
    "late_fire_min_s": 0.8,
    "result_delay_s": 0.2,
}


class SelftestFailed(Exception):
    """A step did not do what it should; the message says what was seen."""


class MemoryKeyring(KeyringBackend):
    """A keyring that lives and dies with the selftest process: the demo's sign-in never reaches the
    user's real keyring, and a machine without one (a CI box) can still run the selftest."""

    @properties.classproperty
    def priority(cls) -> float:
        # Defining a backend class registers it with keyring; raising here keeps it out of keyring's own
        # choice, so importing this module never diverts the app's secrets. Only set_keyring selects it.
        raise RuntimeError("the selftest's keyring is only ever chosen explicitly")

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        if self._entries.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


@dataclass
class Reporter:
    out: TextIO
    started: float = field(default_factory=time.monotonic)
    step: str = "start"

    @contextmanager
    def run(self, step: str) -> Iterator[Callable[[str], None]]:
        """Time one step; the step's detail is set through the callable it yields."""
        self.step = step
        began = time.monotonic()
        detail: list[str] = []
        yield detail.append
        text = f": {detail[-1]}" if detail else ""
        self.say(f"ok   {step}{text} ({time.monotonic() - began:.1f} s)")

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)


def _private_dirs(root: Path) -> dict[str, Path]:
    dirs = {name: root / name for name in ("data", "config", "logs", "cache")}
    for directory in dirs.values():
        directory.mkdir(mode=0o700)
    # Everything the app resolves through paths.py (window state, thumbnails, logs) lands in root too.
    os.environ["SNIPER_DATA_DIR"] = str(dirs["data"])
    os.environ["SNIPER_CONFIG_DIR"] = str(dirs["config"])
    os.environ["SNIPER_LOG_DIR"] = str(dirs["logs"])
    os.environ["SNIPER_CACHE_DIR"] = str(dirs["cache"])
    return dirs


def _keyring_report() -> str:
    """Which keyring backends this build knows (their entry points must survive freezing) and whether
    the machine has a usable one; the selftest itself then uses a private in-memory keyring."""
    from importlib.metadata import entry_points

    import keyring

    from sniper_app.ebay.errors import NoKeyring
    from sniper_app.ebay.keystore import check_backend

    known = sorted(ep.name for ep in entry_points(group="keyring.backends"))
    try:
        backend = check_backend()
        found = f"OS keyring {type(backend).__name__} is available (not used by the selftest)"
    except NoKeyring:
        found = "no usable OS keyring on this machine"
    except Exception as exc:  # e.g. PYTHON_KEYRING_BACKEND names a class this build cannot import
        found = f"the configured keyring could not be loaded ({type(exc).__name__})"
    keyring.set_keyring(MemoryKeyring())
    return f"backends known: {', '.join(known) or 'none'}; {found}; using a private in-memory keyring"


def _window_check(store: Any, bus: Any, settings: Any, user_id: int) -> tuple[Any, str]:
    from sniper_app.engine.reads import Reads
    from sniper_app.resources import app_icon_path
    from sniper_app.ui.main_window import MainWindow
    from sniper_app.ui.qt import QtGui, QtWidgets

    app = QtWidgets.QApplication.instance()
    assert app is not None
    icon = QtGui.QIcon(str(app_icon_path()))
    if icon.pixmap(64, 64).isNull():
        raise SelftestFailed(f"the app icon {app_icon_path()} could not be loaded (Qt's SVG plugins missing?)")
    QtWidgets.QApplication.setWindowIcon(icon)
    window = MainWindow(Reads(store, user_id), bus, settings, user_id)
    window.resize(1000, 640)
    window.show()
    QtWidgets.QApplication.processEvents()
    pixmap = window.grab()
    if pixmap.isNull() or pixmap.width() < 100:
        raise SelftestFailed("the main window rendered nothing")
    platform = QtGui.QGuiApplication.platformName()
    return window, f"{platform} platform, window rendered {pixmap.width()}x{pixmap.height()}, icon loaded"


async def _consent_redirect(url: str) -> str:
    """Where the browser lands after the auto-approving simulator's consent page."""
    import httpx

    async with httpx.AsyncClient(follow_redirects=False, timeout=10.0) as http:
        reply = await http.get(url)
    location = reply.headers.get("location")
    if reply.status_code not in (302, 303) or not location:
        raise SelftestFailed(f"the consent page answered {reply.status_code} without a redirect")
    return str(location)


async def _scenario(report: Reporter, sim: SimulatorServer, data_dir: Path) -> str:
    from sniper_app.app import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_RUNAME
    from sniper_app.config import Settings
    from sniper_app.domain.status import SnipeStatus
    from sniper_app.ebay import SecretStore
    from sniper_app.ebay.keystore import CLIENT_SECRET_ENV
    from sniper_app.engine.bus import EventBus
    from sniper_app.engine.engine import Engine
    from sniper_app.engine.metrics import Metrics
    from sniper_app.engine.service import SniperService
    from sniper_app.engine.wiring import build_client
    from sniper_app.store import Store

    settings = Settings(
        data_dir=data_dir,
        ebay_env="simulator",
        ebay_api_url=sim.base_url,
        ebay_auth_url=sim.base_url,
        ebay_trading_url=sim.trading_url,
        ebay_client_id=DEMO_CLIENT_ID,
        ebay_runame=DEMO_RUNAME,
        min_seconds_before_end=10,
        time_server=f"{sim.sntp_address[0]}:{sim.sntp_address[1]}",
    )
    store = Store.open(data_dir)
    bus, metrics = EventBus(), Metrics()
    secrets = SecretStore("simulator", environ={CLIENT_SECRET_ENV: DEMO_CLIENT_SECRET})
    client = build_client(settings, secrets=secrets)
    window: Any = None
    try:
        user_id = int(store.get_or_create_user().id)
        with report.run("window") as detail:
            window, text = _window_check(store, bus, settings, user_id)
            detail(text)

        engine = Engine(
            settings, store, user_id=user_id, bus=bus, metrics=metrics, client=client,
            clock_server=settings.time_server, **ENGINE_KNOBS,  # type: ignore[arg-type]
        )
        service = SniperService(
            settings, store, user_id=user_id, client=client, engine=engine, bus=bus, metrics=metrics,
            data_dir=data_dir,
        )
        with report.run("engine") as detail:
            await engine.start()
            clock = await service.measure_clock()
            if not clock.synced:
                raise SelftestFailed(f"the clock did not sync with {clock.server}: {clock.last_error}")
            detail(f"started; clock offset {clock.offset_s * 1000:+.1f} ms from {clock.server}")
        try:
            with report.run("link") as detail:
                user = await service.complete_link(await _consent_redirect(service.start_link()))
                detail(f"demo account {user.username} linked through the consent page")

            with report.run("snipe") as detail:
                auction = sim.create_auction("Selftest pocket watch", START_PRICE, ends_in=AUCTION_ENDS_IN_S)
                snipe, _warnings = await service.add_snipe(auction["legacy_item_id"], MAX_BID, lead=LEAD_S)
                detail(f"snipe #{snipe.id} on item {snipe.legacy_item_id}, max {MAX_BID}, "
                       f"auction ends in {AUCTION_ENDS_IN_S:g} s")

            with report.run("result") as detail:
                deadline = time.monotonic() + AUCTION_ENDS_IN_S + 20.0
                while not SnipeStatus(store.get_snipe(snipe.id).status).is_final:
                    if time.monotonic() > deadline:
                        status = store.get_snipe(snipe.id).status
                        raise SelftestFailed(f"no result in time; the snipe is still {status}")
                    await asyncio.sleep(0.1)
                final = store.get_snipe(snipe.id)
                if final.status != SnipeStatus.WON:
                    raise SelftestFailed(f"the snipe ended {final.status}: {final.status_reason}")
                sold = sim.auction(snipe.legacy_item_id)
                detail(f"WON at {sold.get('final_price') or sold.get('price') or '?'}; "
                       f"the simulator recorded {len(sold.get('bids') or [])} bid(s)")

            with report.run("window again") as detail:
                pixmap = window.grab()
                if pixmap.isNull():
                    raise SelftestFailed("the main window stopped rendering")
                detail("rendered with the won snipe")
        finally:
            await engine.stop()
    finally:
        if window is not None:
            window.close()
            window.deleteLater()
        await client.aclose()
        store.close()
    return "ok"


def _run_on_qasync(coro_factory: Callable[[], Any]) -> None:
    """Run the scenario as the window does: one qasync loop over a QApplication."""
    import qasync

    # run_selftest set QT_API already, so qasync cannot pick another binding whatever the import order.
    from sniper_app.ui.qt import QtCore, QtWidgets

    existing = QtWidgets.QApplication.instance()
    app = existing if isinstance(existing, QtWidgets.QApplication) else QtWidgets.QApplication(sys.argv[:1])
    # Closing the window at the end must not quit the loop the clean-up still runs on.
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(asyncio.wait_for(coro_factory(), OVERALL_TIMEOUT_S))
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()
        asyncio.set_event_loop(None)
        # Destroy the window and the application now, in order, rather than leave them to the
        # interpreter's shutdown, where PySide6 may free objects Python still counts.
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
        app.shutdown()


def run_selftest(out: TextIO | None = None) -> int:
    """Run every step; returns 0 when all passed, 1 at the first failure (named on ``out``)."""
    report = Reporter(out or sys.stdout)
    # Before Qt or qasync is imported: no display is needed, and qasync must not pick another binding.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["QT_API"] = "pyside6"
    sim: SimulatorServer | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="sniper-selftest-") as tmp:
            with report.run("paths") as detail:
                dirs = _private_dirs(Path(tmp))
                detail(f"private temporary data, settings and logs in {tmp}")
            with report.run("keyring") as detail:
                detail(_keyring_report())
            with report.run("simulator") as detail:
                from sniper_app.simulator import SimulatorServer

                sim = SimulatorServer(host="127.0.0.1", port=0, sntp_port=0, scenario="empty", auto_approve=True)
                sim.start()
                detail(f"eBay simulator at {sim.base_url}, SNTP on port {sim.sntp_address[1]}")
            running = sim
            _run_on_qasync(lambda: _scenario(report, running, dirs["data"]))
            sim.stop()
            sim = None
    except Exception as exc:
        if sim is not None:
            sim.stop()
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, TimeoutError):
            reason = f"the selftest took longer than {OVERALL_TIMEOUT_S:g} s"
        elif not isinstance(exc, SelftestFailed):
            reason = f"{type(exc).__name__}: {reason}"
        report.say(f"FAIL {report.step}: {reason}")
        report.say(f"selftest failed at step '{report.step}'")
        return 1
    report.say(f"selftest passed in {time.monotonic() - report.started:.1f} s")
    return 0
