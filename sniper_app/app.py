"""Entry and dispatch: ``--headless`` and ``--demo`` run the engine until SIGINT/SIGTERM; the window's
start-up lives in :mod:`sniper_app.ui.launch`, imported only when a window is wanted.

Nothing happens at import. Every run is built by :mod:`sniper_app.bootstrap`; this module holds no Qt.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sniper_app import paths
from sniper_app.bootstrap import (
    DEMO_CLIENT_SECRET,
    DEMO_STATE_FILE,
    METRICS_FILE,
    AppContext,
    Runtime,
    app_context,
    apply_overrides,
    demo_dir,
    demo_world,
    open_context,
    say_network_limits,
    start_process,
    take_engine_lock,
    write_metrics,
    write_metrics_until,
)
from sniper_app.config import SETTINGS_FILE, Settings, load_settings
from sniper_app.domain.errors import SniperError
from sniper_app.ebay.keystore import CLIENT_SECRET_ENV
from sniper_app.engine.lock import EngineRunning

log = logging.getLogger(__name__)

__all__ = [
    "METRICS_FILE", "AppContext", "DemoNotRunning", "app_context", "apply_overrides", "open_context",
    "run_demo", "run_headless", "run_window", "running_demo_settings",
]


class DemoNotRunning(SniperError):
    """``--demo`` was given to a command, but no demo is running to talk to."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_demo_settings(base: Settings | None = None) -> Settings:
    """The settings of the demo running in another process (``sniper-app --demo COMMAND``): the demo's own
    saved settings with the running simulator's addresses on top."""
    # Where the demo's data is follows the user's real settings; what it runs with, the demo's own.
    base = base or load_settings(path=paths.user_config_dir() / SETTINGS_FILE)
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
    return apply_overrides(load_settings(path=paths.demo_config_dir() / SETTINGS_FILE), overrides)


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
    ) + f" {CLIENT_SECRET_ENV}={DEMO_CLIENT_SECRET} SNIPER_CONFIG_DIR={paths.demo_config_dir()}"
    return "\n".join(
        [
            f"Sniper demo: a simulated eBay at {settings.ebay_api_url} with a seeded watch list (user 'demo').",
            f"Demo data is kept apart in {settings.resolved_data_dir()}, its settings in {paths.demo_config_dir()}.",
            "Each start is a new simulated eBay, so the demo starts clean: link it again (the first command "
            "below, or the window's Link dialog); the demo's settings stay.",
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


async def run_engine(
    ctx: AppContext, announce: Callable[[str], None], *, banner: str | None = None, listen: str | None = None
) -> int:
    """Run the engine on ``ctx`` until SIGINT or SIGTERM, then shut it down cleanly; returns the exit code.

    With ``listen`` (``HOST:PORT``) paired desktops drive it over HTTPS, see :mod:`sniper_app.remote`."""
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
    runtime = Runtime(ctx)
    box: Any = None
    try:
        await runtime.start()
        if listen is not None:
            box = await serve_remote(runtime, listen, announce)
        announce(banner or f"Sniper engine running (data in {ctx.data_dir}). Press Ctrl+C to stop.")
        problem = await runtime.service.accounts.sign_in_problem()
        if problem is not None:
            # Said at start, not first at the fire: the snipes it holds would all fail.
            announce(f"Warning: no bid can be placed until the eBay sign-in can be read. {problem}")
            log.warning("the eBay sign-in cannot be read: %s", problem)
        await write_metrics_until(ctx, stop)
        log.info("stopping the engine")
    finally:
        try:
            if box is not None:
                await box.stop()
            await runtime.stop()
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)
    with contextlib.suppress(OSError):
        write_metrics(ctx, {"stopped": True})
    announce("Sniper engine stopped.")
    return 0


async def serve_remote(runtime: Runtime, listen: str, announce: Callable[[str], None]) -> Any:
    """Serve the running engine's facade to paired desktops at ``listen``; the started server."""
    from sniper_app.config import DEFAULT_LISTEN_PORT
    from sniper_app.remote.box import BoxServer
    from sniper_app.remote.certs import display_fingerprint
    from sniper_app.remote.invite import parse_listen

    address = parse_listen(listen, default_port=DEFAULT_LISTEN_PORT)
    ctx = runtime.ctx
    box = BoxServer(runtime.service, ctx.bus, ctx.data_dir, address.host, address.port)
    listening = await box.start()
    shown = f"[{listening.host}]" if ":" in listening.host else listening.host
    announce(
        f"Serving paired desktops at https://{shown}:{listening.port} (certificate "
        f"{display_fingerprint(listening.fingerprint)[:23]}…); pair one with '{command_name()} remote invite'."
    )
    return box


def connected_box(settings: Settings) -> str | None:
    """The box this desktop is connected to (its address), or None: a connected desktop runs no engine."""
    from sniper_app.remote.credentials import marked_box

    return marked_box(settings.resolved_data_dir())


def refuse_if_connected(settings: Settings, announce: Callable[[str], None]) -> bool:
    """True (and the user told) when this desktop drives a box: one engine bids, the box's."""
    box = connected_box(settings)
    if box is None:
        return False
    announce(
        f"This computer is connected to the Sniper box at {box}, which places the bids; no engine starts "
        f"here, so nothing is bid twice. Run commands as usual (they act on the box), or run "
        f"'{command_name()} remote disconnect' to use this computer's own engine again."
    )
    return True


def run_headless(
    settings: Settings, announce: Callable[[str], None], log_level: str | None = None, *, listen: str | None = None
) -> int:
    if refuse_if_connected(settings, announce):
        return 1
    start_process(log_level)
    try:
        lock = take_engine_lock(settings.resolved_data_dir(), announce)
    except EngineRunning as exc:
        announce(str(exc))
        return 1
    try:
        with app_context(settings) as ctx:
            ctx.reload_settings = load_settings
            return asyncio.run(run_engine(ctx, announce, listen=listen or settings.listen))
    finally:
        lock.release()


def run_demo(
    base: Settings, announce: Callable[[str], None], log_level: str | None = None, *, listen: str | None = None
) -> int:
    """Start the simulator (demo scenario, free ports) and run the engine against it, apart from real data."""
    from sniper_app.bootstrap import reloader

    start_process(log_level)
    try:
        lock = take_engine_lock(demo_dir(base), announce)  # before the simulator: a refused start starts nothing
    except EngineRunning as exc:
        announce(str(exc))
        return 1
    try:
        with demo_world(base) as world, app_context(world.settings, demo=True) as ctx:
            ctx.reload_settings = reloader(world.overrides)
            banner = demo_instructions(world.settings, world.overrides)
            return asyncio.run(run_engine(ctx, announce, banner=banner, listen=listen))
    finally:
        lock.release()


# --- the window -------------------------------------------------------------------------------------


def display_available(environ: dict[str, str] | None = None) -> bool:
    """False on a Linux/BSD box with no X or Wayland display (and no platform chosen by hand)."""
    env = os.environ if environ is None else environ
    if sys.platform.startswith(("win", "darwin")):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY") or env.get("QT_QPA_PLATFORM"))


def run_window(
    base: Settings,
    announce: Callable[[str], None],
    log_level: str | None = None,
    *,
    demo: bool = False,
    minimized: bool = False,
    on_ready: Callable[[Any], Any] | None = None,
) -> int:
    """Open the window (against the bundled simulator with ``demo``) until the user quits; without a display,
    run the engine alone. On a desktop connected to a box the window drives the box's engine and none starts
    here (:mod:`sniper_app.ui.remote_window`).

    ``on_ready`` is called with the running :class:`~sniper_app.ui.shell.Shell` once the engine has started
    (the responsiveness benchmark drives the app through it).
    """
    if not display_available():
        announce("No display was found, so Sniper runs without its window; press Ctrl+C to stop.")
        return run_demo(base, announce, log_level) if demo else run_headless(base, announce, log_level)
    if not demo and connected_box(base) is not None:
        # One engine bids, the box's: this window drives it and starts none here.
        start_process(log_level)
        from sniper_app.ui.remote_window import launch_remote_window

        return launch_remote_window(base, announce, minimized=minimized, on_ready=on_ready)
    start_process(log_level)
    from sniper_app.ui.launch import launch_window  # Qt is imported only now, and only here

    return launch_window(base, announce, demo=demo, minimized=minimized, on_ready=on_ready)
