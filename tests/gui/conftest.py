"""Fixtures of the window tests: a real store in a temp dir, a controllable clock, a window on it."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from sniper_app.bootstrap import AppContext, Runtime
from sniper_app.config import Settings
from sniper_app.domain.history import HistoryAction
from sniper_app.domain.status import SnipeStatus
from sniper_app.ebay import EbayClient, Endpoints, SecretStore
from sniper_app.engine.bus import EventBus
from sniper_app.store import Store, WatchItemData
from sniper_app.ui.qt import QtCore, QtGui
from tests.support.live import qloop as qloop  # the window tests' event loop fixture, shared from support
from tests.support.store import FakeClock

# Port 9 (discard): nothing listens, so a call that did reach out would fail at once.
NOWHERE = "http://127.0.0.1:9"
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture(autouse=True)
def _qt_garbage_dies_on_the_gui_thread() -> Iterator[None]:
    """Collect each window test's garbage here, on the GUI thread, as the test ends.

    Widgets, qasync's timers and workers sit in reference cycles. Left to an automatic collection later,
    it may run on another thread (an in-process simulator's) and destroy Qt objects there, which
    crashes the whole run at some unrelated later test.
    """
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # conftest.py at the top does not move the cache dir; thumbnails must not land in the real one.
    monkeypatch.setenv("SNIPER_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(isolated_dirs: Path, clock: FakeClock) -> Iterator[Store]:
    opened = Store.open(isolated_dirs / "data", clock=clock)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def user_id(store: Store) -> int:
    return int(store.get_or_create_user().id)


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


def seed(store: Store, user_id: int, clock: FakeClock, *, image_base: str | None = None) -> dict[str, Any]:
    """A small, realistic account: a watch list, snipes in several states, and their history."""
    now = clock.now
    items = [
        ("126001", "Leica M3 rangefinder, 50mm Summicron", 125_000, 14, timedelta(hours=2, minutes=13)),
        ("126002", "Fender Stratocaster 1978, sunburst", 98_500, 22, timedelta(minutes=42, seconds=7)),
        ("126003", "Omega Speedmaster Professional 145.022", 310_000, 31, timedelta(days=2, hours=5)),
        ("126004", "Technics SL-1200MK2 turntable", 41_999, 9, timedelta(minutes=3, seconds=15)),
        ("126005", "Vintage Eames lounge chair and ottoman", 0, 0, timedelta(days=6)),
    ]
    store.upsert_watch_items(
        user_id,
        [
            WatchItemData(
                legacy_item_id=item_id,
                title=title,
                currency="USD",
                current_price_minor=price,
                bid_count=bids,
                end_time=now + left,
                image_url=f"{image_base}/img/{item_id}.png" if image_base else None,
            )
            for item_id, title, price, bids, left in items
        ],
        now,
    )
    group = store.create_group(user_id, "Cameras", target_wins=1)
    snipes = {}
    specs = [
        ("126001", "Leica M3 rangefinder, 50mm Summicron", 150_000, timedelta(hours=2, minutes=13), group.id),
        ("126003", "Omega Speedmaster Professional 145.022", 350_000, timedelta(days=2, hours=5), None),
        ("126004", "Technics SL-1200MK2 turntable", 45_000, timedelta(minutes=3, seconds=15), None),
        ("200777", "Nikon F2 Photomic body", 30_000, timedelta(hours=9), group.id),
    ]
    for item_id, title, max_minor, left, group_id in specs:
        snipe = store.create_snipe(
            user_id,
            legacy_item_id=item_id,
            currency="USD",
            max_bid_minor=max_minor,
            end_time=now + left,
            lead_seconds=6.0,
            title=title,
            group_id=group_id,
        )
        snipes[item_id] = snipe.id
    store.set_status(snipes["126001"], SnipeStatus.SCHEDULED)
    store.cancel(snipes["200777"])
    store.add_event(HistoryAction.SYNC, message="Watch list synced: 5 items.")
    store.add_event(HistoryAction.NOTE, message='=HYPERLINK("http://evil")', title="+sum(A1)")
    return {"snipes": snipes, "group": group.id}


@pytest.fixture
def make_window(
    qtbot: Any, store: Store, bus: EventBus, user_id: int, clock: FakeClock, tmp_path: Path
) -> Iterator[Callable[..., Any]]:
    """``make(settings=None)``: a window over a real facade on the test's store, its engine built but not
    started (nothing here reaches eBay)."""
    from sniper_app.ui.main_window import MainWindow

    windows: list[MainWindow] = []
    runtimes: list[Runtime] = []
    state_file = tmp_path / "config" / "window.ini"

    def make(settings: Settings | None = None) -> MainWindow:
        settings = settings or Settings(ebay_env="simulator")
        secrets = SecretStore("simulator")
        client = EbayClient(
            endpoints=Endpoints.for_environment("simulator", api_url=NOWHERE, auth_url=NOWHERE, trading_url=NOWHERE),
            client_id="sim-client", runame="sim-runame", secrets=secrets, client_secret="sim-secret",
        )
        ctx = AppContext(settings, store, user_id, secrets, bus=bus)
        runtime = Runtime(ctx, client=client, notices=False)
        runtimes.append(runtime)
        state = QtCore.QSettings(str(state_file), QtCore.QSettings.Format.IniFormat)
        window = MainWindow(
            runtime.service, bus, settings, user_id, state=state, clock=clock, service=runtime.service)
        qtbot.addWidget(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.shutdown()
        window.allow_close()

    async def stop() -> None:
        for runtime in runtimes:
            await runtime.stop()
            await runtime.client.aclose()

    asyncio.run(stop())


def png_bytes(colour: str, size: int = 96) -> bytes:
    image = QtGui.QImage(size, size, QtGui.QImage.Format.Format_RGB32)
    image.fill(QtGui.QColor(colour))
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]  # the stub wants bytes, the runtime str
    return bytes(buffer.data().data())


class ImageServer:
    """Real HTTP on 127.0.0.1: /img/<name>.png answers a PNG, anything else 404; counts requests."""

    def __init__(self, images: dict[str, bytes]) -> None:
        self.images = images
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                name = self.path.rsplit("/", 1)[-1].removesuffix(".png")
                body = server.images.get(name)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def image_server(qapp: Any) -> Iterator[ImageServer]:
    colours = ["#c62828", "#1565c0", "#2e7d32", "#f9a825", "#6a1b9a"]
    server = ImageServer({f"12600{n + 1}": png_bytes(c) for n, c in enumerate(colours)})
    try:
        yield server
    finally:
        server.close()
