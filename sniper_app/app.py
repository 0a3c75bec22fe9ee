"""Start-up wiring: crash hook → paths → logging → store → engine, held in one explicit context.

Nothing happens at import. The command line builds an :class:`AppContext` per run; ``--headless`` and
``--demo`` then run the engine on it until SIGINT/SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shlex
import shutil
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sniper_app import paths
from sniper_app.config import Settings, load_settings, settings_path
from sniper_app.domain.errors import SniperError
from sniper_app.ebay import EbayClient, SecretStore
from sniper_app.ebay.keystore import CLIENT_SECRET_ENV, POSTMARK_TOKEN_ENV
from sniper_app.ebay.vaults import Vault, choose_vault
from sniper_app.engine.bus import EventBus, SettingsApplied
from sniper_app.engine.lock import EngineLock, EngineRunning
from sniper_app.engine.memory import native_memory
from sniper_app.engine.metrics import Metrics
from sniper_app.engine.wiring import build_client, endpoints_for
from sniper_app.logging_setup import install_crash_handler, setup_logging
from sniper_app.store import Store

if TYPE_CHECKING:
    from sniper_app.engine.accounts import Accounts
    from sniper_app.engine.actions import Actions
    from sniper_app.engine.engine import Engine
    from sniper_app.engine.notifications import NotifierHandle

log = logging.getLogger(__name__)

DEMO_SUBDIR = "demo"
DEMO_STATE_FILE = "demo.json"
METRICS_FILE = "metrics.json"
METRICS_EVERY_S = 5.0
# The simulator's published application keys: not secrets, the same for every copy of the app.
DEMO_CLIENT_ID = "sim-client"
DEMO_CLIENT_SECRET = "sim-secret"  # noqa: S105 - the simulator's public demo key
DEMO_RUNAME = "sim-runame"
DEMO_POSTMARK_TOKEN = "POSTMARK_API_TEST"  # noqa: S105 - Postmark's public test token, the simulator's too


class DemoNotRunning(SniperError):
    """``--demo`` was given to a command, but no demo instance is running to talk to."""


def start_process(log_level: str | None = None, *, log_to_file: bool = True) -> None:
    """Crash hook, private paths and logging for a long-running run (headless, demo, window)."""
    install_crash_handler()
    if log_to_file:
        setup_logging(log_level or "INFO")


@dataclass
class AppContext:
    """Everything one run of the app shares: settings, the store and the local profile."""

    settings: Settings
    store: Store
    user_id: int
    secrets: SecretStore
    demo: bool = False
    bus: EventBus = field(default_factory=EventBus)
    metrics: Metrics = field(default_factory=Metrics)
    # How a long run reads its settings again when the settings file changes (None: it never does).
    reload_settings: Callable[[], Settings] | None = None

    @property
    def data_dir(self) -> Path:
        return self.settings.resolved_data_dir()

    def build_client(self) -> EbayClient:
        """An eBay client for the linked account (or none yet); the caller closes it."""
        user = self.store.get_user(self.user_id)
        return build_client(self.settings, account=user.ebay_username, secrets=self.secrets)

    def actions(self, client: EbayClient | None) -> Actions:
        from sniper_app.engine.actions import Actions

        return Actions(
            self.settings, self.store, user_id=self.user_id, client=client, bus=self.bus, metrics=self.metrics
        )

    def accounts(self, client: EbayClient) -> Accounts:
        from sniper_app.engine.accounts import Accounts

        return Accounts(self.store, client, user_id=self.user_id, data_dir=self.data_dir, bus=self.bus)

    def engine(self, client: EbayClient, **options: Any) -> Engine:
        """The engine of this run (headless or window), acting through ``client``; ``options`` tune it."""
        from sniper_app.engine.engine import Engine
        from sniper_app.engine.live_settings import SettingsWatch

        if self.reload_settings is not None:
            options.setdefault("settings_watch", SettingsWatch(settings_path(), self.reload_settings))
        return Engine(
            self.settings, self.store, user_id=self.user_id, bus=self.bus, metrics=self.metrics, client=client,
            clock_server=self.settings.time_server, **options,
        )

    def notifier(self) -> NotifierHandle:
        """Tray and email notices of this run; ``await start()`` on the loop, ``stop()`` at shutdown."""
        from sniper_app.engine.notifications import NotifierHandle

        return NotifierHandle(self.settings, self.store, self.bus, self.secrets)

    def close(self) -> None:
        self.store.close()


def open_context(settings: Settings, *, demo: bool = False) -> AppContext:
    """Open the store of ``settings``' data dir and the local profile in it."""
    store = Store.open(
        paths.ensure_private_dir(settings.resolved_data_dir()),
        retention=timedelta(days=settings.history_retention_days),
    )
    try:
        user = store.get_or_create_user(marketplace=settings.marketplace)
        environ: dict[str, str] | None = None
        if demo:
            environ = {POSTMARK_TOKEN_ENV: DEMO_POSTMARK_TOKEN} | dict(os.environ)
            environ[CLIENT_SECRET_ENV] = DEMO_CLIENT_SECRET
        environment = endpoints_for(settings).environment
        data_dir = settings.resolved_data_dir()

        # The running demo's data dir, reached through the variables its banner prints instead of --demo.
        demo_data = demo or (settings.ebay_env == "simulator" and (data_dir / DEMO_STATE_FILE).exists())

        def choose() -> Vault:
            choice = choose_vault(data_dir, demo=demo_data)
            log.info("secrets: %s, because %s", choice.store, choice.reason)
            return choice.vault

        secrets = SecretStore(environment, environ=environ, choose=choose)
        return AppContext(settings, store, user.id, secrets, demo=demo)
    except BaseException:
        store.close()
        raise


@contextlib.contextmanager
def app_context(settings: Settings, *, demo: bool = False) -> Iterator[AppContext]:
    ctx = open_context(settings, demo=demo)
    try:
        yield ctx
    finally:
        ctx.close()


# --- demo ---------------------------------------------------------------------------------------------


def demo_dir(base: Settings) -> Path:
    """Demo snipes live apart from real ones, under the user's data dir."""
    return base.resolved_data_dir() / DEMO_SUBDIR


def demo_overrides(base: Settings, base_url: str, trading_url: str, sntp: tuple[str, int]) -> dict[str, Any]:
    return {
        "ebay_env": "simulator",
        "ebay_api_url": base_url,
        "ebay_auth_url": base_url,
        "ebay_trading_url": trading_url,
        "ebay_client_id": DEMO_CLIENT_ID,
        "ebay_runame": DEMO_RUNAME,
        "time_server": f"{sntp[0]}:{sntp[1]}",
        "data_dir": str(demo_dir(base)),
        "postmark_url": base_url,
    }


def apply_overrides(base: Settings, overrides: dict[str, Any]) -> Settings:
    """Settings in memory only: nothing here is ever saved to the user's settings file."""
    return Settings.model_validate(base.model_dump() | overrides)


def _reloader(overrides: dict[str, Any]) -> Callable[[], Settings]:
    """The settings in force again, the run's in-memory overrides (the demo's simulator) still on top."""
    if not overrides:
        return load_settings
    return lambda: apply_overrides(load_settings(), overrides)


def write_demo_state(base: Settings, overrides: dict[str, Any]) -> Path:
    directory = paths.ensure_private_dir(demo_dir(base))
    path = directory / DEMO_STATE_FILE
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"pid": os.getpid(), "settings": overrides, "started_at": datetime.now(UTC).isoformat()}, handle)
    tmp.replace(path)
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_demo_settings(base: Settings | None = None) -> Settings:
    """The settings of the demo running in another process (``sniper-app --demo COMMAND``)."""
    base = base or load_settings()
    path = demo_dir(base) / DEMO_STATE_FILE
    hint = f"start it with '{command_name()} --demo' in another terminal, then run this command again"
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        pid = int(state["pid"])
        overrides = dict(state["settings"])
    except FileNotFoundError:
        raise DemoNotRunning(f"No demo is running; {hint}.") from None
    except (ValueError, KeyError, TypeError):
        raise DemoNotRunning(f"The demo's state file {path} is unreadable; {hint}.") from None
    if not _alive(pid):
        path.unlink(missing_ok=True)
        raise DemoNotRunning(f"The demo has stopped; {hint}.")
    return apply_overrides(base, overrides)


def command_name() -> str:
    """How another terminal starts this program: ``sniper-app`` where that name finds it, else its whole path
    (the README's ``.venv/bin/sniper-app`` is not on the PATH of a venv nobody activated)."""
    here = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if here is None or here.stem != "sniper-app" or not here.exists():
        return "sniper-app"
    found = shutil.which("sniper-app")
    if found is not None and Path(found).resolve() == here.resolve():
        return "sniper-app"
    return shlex.quote(str(here.absolute()))


def demo_instructions(settings: Settings, overrides: dict[str, Any]) -> str:
    prog = command_name()
    env = " ".join(
        f"SNIPER_{key.upper()}={value}" for key, value in overrides.items()
    ) + f" {CLIENT_SECRET_ENV}={DEMO_CLIENT_SECRET}"
    return "\n".join(
        [
            f"Sniper demo: a simulated eBay at {settings.ebay_api_url} with a seeded watch list (user 'demo').",
            f"Demo data is kept apart in {settings.resolved_data_dir()}.",
            "From another terminal:",
            f"  {prog} --demo account link        # the demo's eBay agrees by itself: no browser needed",
            f"  {prog} --demo watchlist sync",
            f"  {prog} --demo watchlist list",
            f"  {prog} --demo snipe add ITEM MAX  # e.g. an item number from the watch list",
            f"  {prog} --demo snipe list",
            f"(or any command with these variables set instead of --demo: {env})",
            "Press Ctrl+C to stop.",
        ]
    )


# --- running the engine ------------------------------------------------------------------------------


def write_metrics(ctx: AppContext, extra: dict[str, Any] | None = None) -> None:
    """Leave the engine's metrics where ``diagnostics`` in another process can read them."""
    data = {"written_at": datetime.now(UTC).isoformat(), "pid": os.getpid(), **ctx.metrics.snapshot(),
            # Live Python objects' memory blocks: a leak of objects shows here even when the allocator hides it.
            "python_blocks": sys.getallocatedblocks(), **native_memory()}
    data |= extra or {}
    path = ctx.data_dir / METRICS_FILE
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, default=str)
    tmp.replace(path)


async def write_metrics_until(ctx: AppContext, stop: asyncio.Event) -> None:
    """Every few seconds until ``stop``, leave the metrics where ``diagnostics`` in another process reads them."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), METRICS_EVERY_S)
        try:
            write_metrics(ctx)
        except OSError:
            log.warning("could not write the metrics file", exc_info=True)


async def run_engine(ctx: AppContext, announce: Callable[[str], None], *, banner: str | None = None) -> int:
    """Run the engine on ``ctx`` until SIGINT or SIGTERM, then shut it down cleanly; returns the exit code."""
    if ctx.store.read_only:
        # An engine that cannot record a bid must not place one.
        from sniper_app.store.errors import read_only

        raise read_only(ctx.data_dir)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):  # Windows' loops have no signal handlers
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
    say_network_limits(ctx.settings, announce)
    client = ctx.build_client()
    engine = ctx.engine(client)
    notifier = ctx.notifier()
    ctx.bus.subscribe(SettingsApplied, lambda event: notifier.reconfigure(event.settings))
    try:
        await notifier.start()
        await engine.start()
        announce(banner or f"Sniper engine running (data in {ctx.data_dir}). Press Ctrl+C to stop.")
        await write_metrics_until(ctx, stop)
        log.info("stopping the engine")
    finally:
        try:
            await engine.stop()
        finally:
            await notifier.stop()
            await client.aclose()
            for sig in installed:
                loop.remove_signal_handler(sig)
    with contextlib.suppress(OSError):
        write_metrics(ctx, {"stopped": True})
    announce("Sniper engine stopped.")
    return 0


def take_engine_lock(data_dir: Path, announce: Callable[[str], None]) -> EngineLock:
    """The data folder's engine lock (EngineRunning, naming the holder, when another engine has it)."""
    lock = EngineLock.acquire(data_dir)
    if lock.previous_pid is not None:
        announce(f"The previous engine (pid {lock.previous_pid}) stopped without shutting down; any bid it was "
                 "sending is checked with eBay before anything is sent again.")
    return lock


def say_network_limits(settings: Settings, announce: Callable[[str], None]) -> None:
    """At start, say where the bid's own connection cannot follow the network set-up of the other calls."""
    from sniper_app.engine.tunnel import proxy_warnings

    for warning in proxy_warnings([endpoints_for(settings).api_url]):
        log.warning("%s", warning)
        announce(warning)


def run_headless(settings: Settings, announce: Callable[[str], None], log_level: str | None = None) -> int:
    start_process(log_level)
    try:
        lock = take_engine_lock(settings.resolved_data_dir(), announce)
    except EngineRunning as exc:
        announce(str(exc))
        return 1
    try:
        with app_context(settings) as ctx:
            ctx.reload_settings = load_settings
            return asyncio.run(run_engine(ctx, announce))
    finally:
        lock.release()


def run_demo(base: Settings, announce: Callable[[str], None], log_level: str | None = None) -> int:
    """Start the simulator (demo scenario, free ports) and run the engine against it, apart from real data."""
    from sniper_app.simulator import SimulatorServer

    start_process(log_level)
    try:
        lock = take_engine_lock(demo_dir(base), announce)  # before the simulator: a refused start starts nothing
    except EngineRunning as exc:
        announce(str(exc))
        return 1
    sim = SimulatorServer(host="127.0.0.1", port=0, sntp_port=0, scenario="demo", auto_approve=True)
    sim.start()
    state: Path | None = None
    try:
        overrides = demo_overrides(base, sim.base_url, sim.trading_url, sim.sntp_address)
        settings = apply_overrides(base, overrides)
        with app_context(settings, demo=True) as ctx:
            ctx.reload_settings = _reloader(overrides)
            state = write_demo_state(base, overrides)
            return asyncio.run(run_engine(ctx, announce, banner=demo_instructions(settings, overrides)))
    finally:
        if state is not None:
            state.unlink(missing_ok=True)
        sim.stop()
        lock.release()


# --- the window -------------------------------------------------------------------------------------


def display_available(environ: dict[str, str] | None = None) -> bool:
    """False on a Linux/BSD box with no X or Wayland display (and no platform chosen by hand)."""
    import sys

    env = os.environ if environ is None else environ
    if sys.platform.startswith(("win", "darwin")):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY") or env.get("QT_QPA_PLATFORM"))


def _route_qt_messages() -> None:
    from sniper_app.ui.qt import QtCore

    qt_log = logging.getLogger("qt")
    levels = {
        QtCore.QtMsgType.QtDebugMsg: logging.DEBUG,
        QtCore.QtMsgType.QtInfoMsg: logging.INFO,
        QtCore.QtMsgType.QtWarningMsg: logging.WARNING,
        QtCore.QtMsgType.QtCriticalMsg: logging.ERROR,
        QtCore.QtMsgType.QtFatalMsg: logging.CRITICAL,
    }

    def handler(kind: QtCore.QtMsgType, _context: QtCore.QMessageLogContext, message: str) -> None:
        qt_log.log(levels.get(kind, logging.WARNING), "%s", message)

    QtCore.qInstallMessageHandler(handler)


def run_window(
    base: Settings,
    announce: Callable[[str], None],
    log_level: str | None = None,
    *,
    demo: bool = False,
    minimized: bool = False,
    on_ready: Callable[[Any], Any] | None = None,
) -> int:
    """Open the window (against the bundled simulator with ``demo``) on a qasync loop until the user quits.

    ``on_ready`` is called with the running :class:`~sniper_app.ui.shell.Shell` once the engine has started
    (the responsiveness benchmark drives the app through it).
    """
    if not display_available():
        announce("No display was found, so Sniper runs without its window; press Ctrl+C to stop.")
        return run_demo(base, announce, log_level) if demo else run_headless(base, announce, log_level)
    start_process(log_level)
    import importlib
    import sys

    from sniper_app.ui.qt import QtWidgets  # sets QT_API before qasync looks for a binding

    qasync = importlib.import_module("qasync")  # only now: qasync picks its binding at import

    from sniper_app.store.errors import StoreError
    from sniper_app.ui.shell import app_icon, run_shell
    from sniper_app.ui.single_instance import SingleInstance, server_name
    from sniper_app.ui.start_error import tell_start_error

    _route_qt_messages()
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    assert isinstance(app, QtWidgets.QApplication)
    app.setApplicationName("Sniper")
    app.setOrganizationName("Sniper")
    app.setApplicationDisplayName("Sniper")
    app.setDesktopFileName("sniper-app")
    app.setWindowIcon(app_icon())
    # The tray keeps the app alive when the window closes; quitting is the user's explicit choice.
    app.setQuitOnLastWindowClosed(False)

    # Before the store and the simulator: a second launch hands over and must start neither.
    data_dir = demo_dir(base) if demo else base.resolved_data_dir()
    instance = SingleInstance.claim(server_name(data_dir))
    if instance is None:
        announce("Sniper is already running with this data; its window was brought to the front.")
        return 0
    try:
        lock = take_engine_lock(data_dir, announce)
    except EngineRunning as exc:
        # A headless engine on the same data has no window to raise: say so where a desktop user looks too.
        instance.close()
        announce(str(exc))
        if app.platformName() != "offscreen":  # nobody could close the box there
            QtWidgets.QMessageBox.critical(None, "Sniper", str(exc))
        return 1
    except SniperError as exc:  # a read-only or unusable data folder: said on stderr by the caller too
        instance.close()
        tell_start_error(app, str(exc))
        raise
    sim = None
    state: Path | None = None
    try:
        settings = base
        overrides: dict[str, Any] = {}
        if demo:
            from sniper_app.simulator import SimulatorServer

            sim = SimulatorServer(host="127.0.0.1", port=0, sntp_port=0, scenario="demo", auto_approve=True)
            sim.start()
            overrides = demo_overrides(base, sim.base_url, sim.trading_url, sim.sntp_address)
            settings = apply_overrides(base, overrides)
            state = write_demo_state(base, overrides)
        say_network_limits(settings, announce)
        with app_context(settings, demo=demo) as ctx:
            ctx.reload_settings = _reloader(overrides)
            loop = qasync.QEventLoop(app)
            asyncio.set_event_loop(loop)
            with loop:
                code: int = loop.run_until_complete(
                    run_shell(
                        ctx, instance=instance, minimized=minimized or settings.start_minimized, on_ready=on_ready
                    )
                )
            return code
    except StoreError as exc:  # a damaged database, a read-only folder: said on stderr by the caller too
        tell_start_error(app, str(exc))
        raise
    finally:
        lock.release()
        instance.close()
        if state is not None:
            state.unlink(missing_ok=True)
        if sim is not None:
            sim.stop()
