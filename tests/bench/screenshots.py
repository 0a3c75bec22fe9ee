"""Pictures of every view of the real window, against the demo's simulated eBay, in light and dark.

    .venv/bin/python -m tests.bench.screenshots            # all views, both themes, 800x500 and 1600x1000
    .venv/bin/python -m tests.bench.screenshots --readme   # and resources/screenshot.png for the README
    .venv/bin/python -m tests.bench.screenshots --font-scale 1.5   # a large font, at 800x600 and 1600x1000
    .venv/bin/python -m tests.bench.screenshots --remote   # the window driving a demo box: badge, banner

Each run starts Sniper as ``sniper-app --demo`` does, in private folders (nothing of the user's is read or
written), links the demo account, syncs its watch list, adds a few snipes, then saves
``artifacts/screenshots/<view>-<light|dark>-<width>x<height>.png`` for the Watch list, Snipes, History,
Diagnostics, a long status message, the Add dialog, Settings and About. Qt's Fusion style and its own
palettes are used, so two machines draw the same window; countdowns follow the demo's clock, the rest is
the same every run. Without ``--display`` Qt draws offscreen, so no desktop is needed.

With ``--remote`` a demo box runs in its own process (``--demo --headless --listen``), a private desktop is
connected to it by its invite, and the window over it is shot connected (``remote_badge-…``), then with the box
killed (``remote_banner-…``); its Settings dialog is shot while connected (``settings_box-…``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SIZES = ((800, 500), (1600, 1000))
# A font half as large again needs a few more lines: the smallest window it is tried at is taller.
LARGE_FONT_SIZES = ((800, 600), (1600, 1000))
README_SIZE = (1200, 700)
VIEWS = ("watch_list", "snipes", "history", "diagnostics")
SNIPES = 3  # demo auctions given a snipe each (the last one then cancelled, to show a finished state)


def _private_environment(home: Path, display: bool) -> None:
    """Every folder and the keyring in ``home``; the same fonts and scale on every machine."""
    os.environ["SNIPER_DATA_DIR"] = str(home / "data")
    os.environ["SNIPER_CONFIG_DIR"] = str(home / "config")
    os.environ["SNIPER_LOG_DIR"] = str(home / "logs")
    os.environ["SNIPER_CACHE_DIR"] = str(home / "cache")
    os.environ["PYTHON_KEYRING_BACKEND"] = "tests.support.keyring_backend.FileKeyring"
    os.environ["SNIPER_TEST_KEYRING_FILE"] = str(home / "keyring.json")
    os.environ["TZ"] = "UTC"
    os.environ["QT_SCALE_FACTOR"] = "1"
    os.environ.pop("QT_SCREEN_SCALE_FACTORS", None)
    if not display:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


async def _until(check: Callable[[], bool], seconds: float = 10.0) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not check():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def _settle() -> None:
    """Let queued signals, layouts and repaints run: the loop is Qt's, so sleeping in it runs them."""
    for _ in range(5):
        await asyncio.sleep(0.02)


async def _prepare(shell: Any) -> None:
    """Link the demo account, sync, and add the snipes the Snipes view shows."""
    from sniper_app.domain.errors import SniperError
    from sniper_app.engine.demo_link import demo_consent_redirect

    service, window = shell.service, shell.window
    if not service.linked_username():
        landed = await demo_consent_redirect(service.start_link())
        assert landed, "the demo's consent page did not answer"
        await service.complete_link(landed)
    link = window.dialog("link")
    if link is not None:
        link.close()
    await service.sync_watchlist()
    await _until(lambda: window.watch_model.rowCount() > 0)
    items = [window.watch_model.row(n) for n in range(window.watch_model.rowCount())]
    auctions = [item for item in items if getattr(item, "snipeable", True)]
    ids: list[int] = []
    for item in auctions:
        if len(ids) == SNIPES:
            break
        # A third above the current price, as a user would bid.
        maximum = (item.price_minor or 0) * 4 // 3 + 1000
        try:
            amount = f"{maximum // 100}.{maximum % 100:02d}"
            snipe, _warnings = await service.add_snipe(str(item.legacy_item_id), amount)
        except SniperError:  # ending too soon, or not an auction: the next one will do
            continue
        ids.append(snipe.id)
    if ids:
        await service.cancel_snipe(ids[-1])
    await _until(lambda: window.snipes_model.rowCount() >= len(ids))
    await _until(lambda: not window.thumbnails._pending)


async def _shoot(shell: Any, out: Path, readme: bool, sizes: tuple[tuple[int, int], ...] = SIZES,
                 suffix: str = "") -> list[Path]:
    from sniper_app.ui.qt import QtWidgets
    from tests.support.look import dark_palette, light_palette

    app = QtWidgets.QApplication.instance()
    assert isinstance(app, QtWidgets.QApplication)
    window = shell.window
    # Drawn offscreen there is no power manager to keep awake: the pictures show a desktop's usual state,
    # not this machine's "Cannot keep the computer awake".
    shell.service.keep_awake_failing = lambda: False
    bar = window.statusBar()
    saved: list[Path] = []
    out.mkdir(parents=True, exist_ok=True)

    def save(widget: QtWidgets.QWidget, path: Path) -> None:
        if path.parent == out:
            path = path.with_name(path.stem + suffix + path.suffix)
        asked = window.property("askedSize")
        if widget is window and asked is not None and (window.width(), window.height()) != asked:
            print(f"{path.name}: the window would not be {asked[0]}x{asked[1]}: it is {window.width()}x"
                  f"{window.height()}",
                  file=sys.stderr, flush=True)
        if widget is window and not path.stem.startswith("message"):
            # An engine notice that happens to be up would cover the view's lower part in every picture.
            bar.clearMessage()
        assert widget.grab().save(str(path)), path
        saved.append(path)
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path, flush=True)

    # A new user's first sight: nothing linked, nothing sniped, and each view saying what to do.
    link = window.dialog("link")
    if link is not None:
        link.close()
    window.resize(*sizes[0])
    window.setProperty("askedSize", sizes[0])
    for theme, palette in (("light", light_palette()), ("dark", dark_palette())):
        app.setPalette(palette)
        for tab, view in ((window.WATCH_TAB, "watch_list_empty"), (window.SNIPES_TAB, "snipes_empty")):
            window.tabs.setCurrentIndex(tab)
            await _settle()
            save(window, out / f"{view}-{theme}-{sizes[0][0]}x{sizes[0][1]}.png")
    await _prepare(shell)

    for theme, palette in (("light", light_palette()), ("dark", dark_palette())):
        app.setPalette(palette)
        for width, height in sizes:
            size = f"{width}x{height}"
            window.resize(width, height)
            window.setProperty("askedSize", (width, height))
            for tab, view in enumerate(VIEWS):
                window.tabs.setCurrentIndex(tab)
                await _settle()
                save(window, out / f"{view}-{theme}-{size}.png")
            # A long message, as the window shows one: whole, above the status bar, for its few seconds.
            window.tabs.setCurrentIndex(window.SNIPES_TAB)
            title = window.snipes_model.row(0).title if window.snipes_model.rowCount() else "an item"
            window.statusBar().showMessage(
                f"Snipe on “{title}” saved. This auction ends in 4 minutes 23 seconds; the snipe is accepted, "
                "but there is little time left to fix anything if eBay or your connection has a problem.", 60_000)
            await _settle()
            save(window, out / f"message-{theme}-{size}.png")
            window.statusBar().clearMessage()
            window.tabs.setCurrentIndex(window.WATCH_TAB)
            first = window.watch_model.row(0).legacy_item_id if window.watch_model.rowCount() else None
            dialog = window.open_add_dialog(str(first) if first else None)
            assert dialog is not None
            # The preview of the item is fetched from the demo's eBay before the picture is taken.
            await _until(lambda d=dialog: "Current" in " ".join(  # type: ignore[misc]
                label.text() for label in d.findChildren(QtWidgets.QLabel)), 10)
            await _settle()
            save(dialog, out / f"add_dialog-{theme}-{size}.png")
            dialog.close()
            window.open_settings_dialog()
            settings = window.dialog("settings")
            assert settings is not None
            await _settle()
            save(settings, out / f"settings-{theme}-{size}.png")
            remote = getattr(settings, "remote_page", None)
            if remote is not None:  # Settings › Remote, the box a desktop drives
                settings.tabs.setCurrentIndex(settings.tabs.count() - 1)
                await _settle()
                save(settings, out / f"settings_remote-{theme}-{size}.png")
            settings.close()
            window.app_actions["about"].trigger()
            about = window.dialog("about")
            assert about is not None
            await _settle()
            save(about, out / f"about-{theme}-{size}.png")
            about.close()
        if readme and theme == "light":
            window.resize(*README_SIZE)
            window.setProperty("askedSize", README_SIZE)
            window.tabs.setCurrentIndex(window.WATCH_TAB)
            await _settle()
            save(window, ROOT / "resources" / "screenshot.png")
    return saved


def _env(home: Path) -> dict[str, str]:
    return {
        "SNIPER_DATA_DIR": str(home / "data"), "SNIPER_CONFIG_DIR": str(home / "config"),
        "SNIPER_LOG_DIR": str(home / "logs"), "SNIPER_CACHE_DIR": str(home / "cache"),
        "PYTHON_KEYRING_BACKEND": "tests.support.keyring_backend.FileKeyring",
        "SNIPER_TEST_KEYRING_FILE": str(home / "keyring.json"), "PYTHONPATH": str(ROOT),
    }


async def _shoot_remote(shell: Any, out: Path, box: Any) -> list[Path]:
    """Link the box's demo account and add snipes from this window, then shoot it connected and lost."""
    import signal

    from sniper_app.domain.errors import SniperError
    from sniper_app.engine.demo_link import demo_consent_redirect
    from sniper_app.ui.qt import QtWidgets
    from tests.support.look import dark_palette, light_palette

    app = QtWidgets.QApplication.instance()
    assert isinstance(app, QtWidgets.QApplication)
    mirror, window = shell.mirror, shell.window
    assert await _until(lambda: mirror.link.connected, 30), "the window did not reach the box"
    if not mirror.linked_username():
        landed = await demo_consent_redirect(await mirror.remote.start_link())
        assert landed, "the demo's consent page did not answer"
        await mirror.complete_link(landed)
    await mirror.sync_watchlist()
    await _until(lambda: window.watch_model.rowCount() > 0)
    added = 0
    for n in range(window.watch_model.rowCount()):
        item = window.watch_model.row(n)
        if added == SNIPES or not getattr(item, "snipeable", True):
            continue
        maximum = (item.price_minor or 0) * 4 // 3 + 1000
        try:
            await mirror.add_snipe(str(item.legacy_item_id), f"{maximum // 100}.{maximum % 100:02d}")
        except SniperError:
            continue
        added += 1
    await _until(lambda: window.snipes_model.rowCount() >= added)
    await _until(lambda: "$" in window.exposure_label.text())  # read again a moment after the last change
    saved: list[Path] = []
    out.mkdir(parents=True, exist_ok=True)
    width, height = SIZES[0]
    window.resize(width, height)
    window.tabs.setCurrentIndex(window.SNIPES_TAB)

    async def save_both(name: str) -> None:
        for theme, palette in (("light", light_palette()), ("dark", dark_palette())):
            app.setPalette(palette)
            await _settle()
            path = out / f"{name}-{theme}-{width}x{height}.png"
            assert window.grab().save(str(path)), path
            saved.append(path)
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path, flush=True)

    await save_both("remote_badge")
    # The Settings dialog over the box: the engine's settings are the box's, the rest this computer's.
    window.open_settings_dialog()
    dialog = window.dialog("settings")
    assert dialog is not None, "no Settings dialog"
    lead = dialog.field_widget("default_lead_seconds")
    assert await _until(lead.isEnabled, 15), "the box's settings were not read into the dialog"
    for tab in (0, 2):
        dialog.tabs.setCurrentIndex(tab)
        for theme, palette in (("light", light_palette()), ("dark", dark_palette())):
            app.setPalette(palette)
            await _settle()
            path = out / f"settings_box-{dialog.tabs.tabText(tab).lower()}-{theme}.png"
            assert dialog.grab().save(str(path)), path
            saved.append(path)
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path, flush=True)
    dialog.close()
    box.send_signal(signal.SIGKILL)
    box.wait(30)
    assert await _until(lambda: shell.status.banner.isVisible(), 30), "no banner after the box was killed"
    await save_both("remote_banner")
    return saved


def _remote(args: argparse.Namespace) -> int:
    """The window over a demo box, shot connected and after the box is killed."""
    import socket
    import subprocess

    top = Path(tempfile.gettempdir()) / "sniper-screenshots-remote"
    shutil.rmtree(top, ignore_errors=True)
    box_home, desk_home = top / "box", top / "desk"
    for home in (box_home, desk_home):
        home.mkdir(parents=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box_env = dict(os.environ) | _env(box_home)
    box_env.pop("QT_QPA_PLATFORM", None)
    cli = [sys.executable, "-m", "sniper_app"]
    box = subprocess.Popen([*cli, "--demo", "--headless", "--listen", f"127.0.0.1:{port}"], env=box_env,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert box.stdout is not None
        for line in box.stdout:
            if "Press Ctrl+C" in line:
                break
        invite = subprocess.run([*cli, "--demo", "remote", "invite"], env=box_env, capture_output=True, text=True,
                                check=True).stdout.strip().splitlines()[-1]
        subprocess.run([*cli, "remote", "connect", invite], env=dict(os.environ) | _env(desk_home),
                       capture_output=True, text=True, check=True)
        _private_environment(desk_home, args.display)
        sys.path.insert(0, str(ROOT))
        from sniper_app.app import run_window
        from sniper_app.config import load_settings
        from sniper_app.ui.qt import QtWidgets

        app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
        app.setStyle("Fusion")
        failures: list[BaseException] = []
        tasks: set[asyncio.Task[Any]] = set()

        def ready(shell: Any) -> None:
            async def run() -> None:
                try:
                    await _shoot_remote(shell, args.out.resolve(), box)
                except BaseException as exc:
                    failures.append(exc)
                    raise
                finally:
                    shell.stop.set()

            tasks.add(asyncio.get_event_loop().create_task(run()))

        code = run_window(load_settings(), print, "WARNING", on_ready=ready)
        if failures:
            print(f"screenshots failed: {failures[0]!r}", file=sys.stderr)
            return 1
        return code
    finally:
        if box.poll() is None:
            box.kill()
        box.wait(30)
        shutil.rmtree(top, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "screenshots")
    parser.add_argument("--readme", action="store_true", help="also replace resources/screenshot.png")
    parser.add_argument("--display", action="store_true", help="draw on the real display (Xvfb, a desktop)")
    parser.add_argument("--font-scale", type=float, default=1.0,
                        help="the application font times this (names end in -font<scale>x); 1.5: a large font")
    parser.add_argument("--remote", action="store_true", help="only the window driving a demo box")
    args = parser.parse_args(argv)
    if args.remote:
        return _remote(args)
    large = args.font_scale != 1.0
    sizes = LARGE_FONT_SIZES if large else SIZES
    suffix = f"-font{args.font_scale:g}x" if large else ""
    # One fixed folder (emptied first), so the About box shows the same paths in every run's pictures.
    home = Path(tempfile.gettempdir()) / "sniper-screenshots"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    try:
        _private_environment(home, args.display)
        sys.path.insert(0, str(ROOT))
        from sniper_app.app import run_window
        from sniper_app.config import load_settings
        from sniper_app.ui.qt import QtWidgets

        app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
        assert isinstance(app, QtWidgets.QApplication)
        app.setStyle("Fusion")  # the same look on every machine, whatever the desktop's theme
        if large:
            font = app.font()
            font.setPointSizeF(font.pointSizeF() * args.font_scale)
            app.setFont(font)
        failures: list[BaseException] = []
        tasks: set[asyncio.Task[Any]] = set()

        def ready(shell: Any) -> None:
            async def run() -> None:
                try:
                    await _shoot(shell, args.out.resolve(), args.readme and not large, sizes, suffix)
                except BaseException as exc:
                    failures.append(exc)
                    raise
                finally:
                    shell.stop.set()

            task = asyncio.get_event_loop().create_task(run())
            tasks.add(task)

        code = run_window(load_settings(), print, "WARNING", demo=True, on_ready=ready)
        if failures:
            print(f"screenshots failed: {failures[0]!r}", file=sys.stderr)
            return 1
        return code
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
