"""The one place that builds a run of the app: context (settings, store, profile, secrets) and runtime
(eBay client, engine, facade, notices), started and stopped in order.

The window, ``--headless``, ``--demo``, the self-test, the benchmarks and the test rigs all build through
here, so a part is wired the same way wherever it runs. Qt-free: the window's own start-up is in
:mod:`sniper_app.ui.launch`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sniper_app import paths
from sniper_app.config import Settings, load_settings, settings_path
from sniper_app.ebay import EbayClient, SecretStore
from sniper_app.ebay.keystore import CLIENT_SECRET_ENV, POSTMARK_TOKEN_ENV
from sniper_app.ebay.vaults import Vault, choose_vault
from sniper_app.engine.bus import EventBus, SettingsApplied
from sniper_app.engine.lock import EngineLock
from sniper_app.engine.memory import native_memory
from sniper_app.engine.metrics import Metrics
from sniper_app.engine.wiring import build_client, endpoints_for
from sniper_app.logging_setup import install_crash_handler, setup_logging
from sniper_app.store import Store

# The front ends catch what opening the data folder can raise from here, so none of them imports store/.
from sniper_app.store.errors import StoreError as StoreError

if TYPE_CHECKING:
    from sniper_app.engine.accounts import Accounts
    from sniper_app.engine.actions import Actions
    from sniper_app.engine.engine import Engine
    from sniper_app.engine.notifications import NotifierHandle
    from sniper_app.engine.service import SniperService
    from sniper_app.simulator import SimulatorServer

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


def start_process(log_level: str | None = None, *, log_to_file: bool = True) -> None:
    """Crash hook, private paths and logging for a long-running run (headless, demo, window)."""
    install_crash_handler()
    if log_to_file:
        setup_logging(log_level or "INFO")


# --- the context ----------------------------------------------------------------------------------------


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

    def close(self) -> None:
        self.store.close()


def secret_store(settings: Settings, *, demo: bool = False) -> SecretStore:
    """The secret store of ``settings``' data dir (the vault is chosen at its first use)."""
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

    return SecretStore(environment, environ=environ, choose=choose)


def open_context(settings: Settings, *, demo: bool = False) -> AppContext:
    """Open the store of ``settings``' data dir and the local profile in it."""
    store = Store.open(
        paths.ensure_private_dir(settings.resolved_data_dir()),
        retention=timedelta(days=settings.history_retention_days),
    )
    try:
        user = store.get_or_create_user(marketplace=settings.marketplace)
        return AppContext(settings, store, user.id, secret_store(settings, demo=demo), demo=demo)
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


# --- the runtime ----------------------------------------------------------------------------------------


class Runtime:
    """The running parts of one context: eBay client, engine, the facade the front ends drive, and notices.

    Built here and nowhere else. ``client`` is used (and left open) when given, else one is built for the
    linked account and closed at :meth:`stop`. ``engine_options`` tune the engine (tests and the self-test
    compress its timing). ``notices=False`` leaves out tray and email notices (rigs that only watch the bus).
    """

    def __init__(
        self,
        ctx: AppContext,
        *,
        client: EbayClient | None = None,
        engine_options: dict[str, Any] | None = None,
        notices: bool = True,
    ) -> None:
        # Imported here, not at the top: the CLI's one-shot commands open a context but never a runtime,
        # and should not pay for the scheduler and the fire thread's modules at every start.
        from sniper_app.engine.engine import Engine
        from sniper_app.engine.live_settings import SettingsWatch
        from sniper_app.engine.notifications import NotifierHandle
        from sniper_app.engine.service import SniperService

        self.ctx = ctx
        self._owns_client = client is None
        self.client: EbayClient = client if client is not None else ctx.build_client()
        options: dict[str, Any] = {"clock_server": ctx.settings.time_server} | (engine_options or {})
        if ctx.reload_settings is not None:
            options.setdefault("settings_watch", SettingsWatch(settings_path(), ctx.reload_settings))
        self._owns_firer = "firer" not in options
        self._engine_started = False
        self.engine: Engine = Engine(
            ctx.settings, ctx.store, user_id=ctx.user_id, bus=ctx.bus, metrics=ctx.metrics, client=self.client,
            **options,
        )
        self.service: SniperService = SniperService(
            ctx.settings, ctx.store, user_id=ctx.user_id, client=self.client, engine=self.engine, bus=ctx.bus,
            metrics=ctx.metrics, data_dir=ctx.data_dir, demo=ctx.demo,
        )
        self.notifier: NotifierHandle | None = None
        self._unsubscribe: Callable[[], None] | None = None
        if notices:
            notifier = NotifierHandle(ctx.settings, ctx.store, ctx.bus, ctx.secrets)
            # From the Settings dialog or another process's 'config set': notices follow the engine's settings.
            self._unsubscribe = ctx.bus.subscribe(SettingsApplied, lambda event: notifier.reconfigure(event.settings))
            self.notifier = notifier
        self._stopped = False

    async def start_notices(self) -> None:
        if self.notifier is not None:
            await self.notifier.start()

    async def start_engine(self) -> None:
        self._engine_started = True
        await self.engine.start()

    async def start(self) -> None:
        """Notices first, so nothing the engine reports at start-up goes unsaid."""
        await self.start_notices()
        await self.start_engine()

    async def stop(self) -> None:
        """Engine, notices, then the client they shared; a second call does nothing."""
        if self._stopped:
            return
        self._stopped = True
        try:
            if self._engine_started:
                await self.engine.stop()
            elif self._owns_firer:
                # An engine never started still holds its fire thread's wake-up sockets.
                self.engine.firer.stop()
        finally:
            try:
                if self.notifier is not None:
                    await self.notifier.stop()
            finally:
                if self._unsubscribe is not None:
                    self._unsubscribe()
                if self._owns_client:
                    await self.client.aclose()


# --- the demo ---------------------------------------------------------------------------------------------


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


def reloader(overrides: dict[str, Any]) -> Callable[[], Settings]:
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


@dataclass
class DemoWorld:
    """The demo's simulator, running, and the in-memory settings that point the app at it."""

    sim: SimulatorServer
    settings: Settings
    overrides: dict[str, Any]


@contextlib.contextmanager
def demo_world(base: Settings) -> Iterator[DemoWorld]:
    """Start the simulator (demo scenario, free ports) and leave its state file for ``--demo COMMAND``;
    both go when the run ends."""
    from sniper_app.simulator import SimulatorServer

    # Each start is a new simulated eBay: the last run's sign-in, watch list and snipes name a world that no
    # longer exists, so the demo starts clean (its settings, kept in its own config folder, stay).
    clear_demo_world(demo_dir(base))
    # Settings saved while the demo runs are the demo's: the user's real settings file is never written.
    was_demo = paths.config_dir() == paths.demo_config_dir()
    paths.use_demo_config()
    sim = SimulatorServer(host="127.0.0.1", port=0, sntp_port=0, scenario="demo", auto_approve=True)
    sim.start()
    state: Path | None = None
    try:
        overrides = demo_overrides(base, sim.base_url, sim.trading_url, sim.sntp_address)
        settings = apply_overrides(load_settings(), overrides)
        state = write_demo_state(base, overrides)
        yield DemoWorld(sim, settings, overrides)
    finally:
        if state is not None:
            state.unlink(missing_ok=True)
        sim.stop()
        paths.use_demo_config(was_demo)


def clear_demo_world(directory: Path) -> None:
    """Remove the last demo run's database and simulated sign-in (never the lock the caller holds)."""
    from sniper_app.ebay.vaults import DEMO_SECRETS_FILE
    from sniper_app.store import DB_FILENAME

    for name in (DB_FILENAME, f"{DB_FILENAME}-wal", f"{DB_FILENAME}-shm", DEMO_SECRETS_FILE, METRICS_FILE):
        (directory / name).unlink(missing_ok=True)


# --- running -----------------------------------------------------------------------------------------------


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
