"""SimulatorServer: the simulated eBay served by uvicorn on a background thread with its own loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

from . import scenarios
from .app import SimulatorApp
from .money import parse_minor
from .oauth_api import authorize_url
from .sim_clock import SimClock, iso_ms
from .sntp import SntpServer
from .world import Fault, World

_START_TIMEOUT_S = 10.0


class SimulatorServer:
    """A faithful local eBay. ``start()`` returns once it listens; also a context manager."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        sntp_port: int | None = 0,
        scenario: str = "empty",
        clock_offset: float = 0.0,
        latency_ms: float = 0.0,
        jitter_ms: float = 0.0,
        auto_approve: bool = True,
        seed: int | None = None,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
    ) -> None:
        """With ``ssl_certfile``/``ssl_keyfile`` (PEM) it serves HTTPS, as eBay does."""
        self.host = host
        self.ssl_certfile = ssl_certfile
        self.ssl_keyfile = ssl_keyfile
        self.port = port
        self.sntp_port = sntp_port
        self.scenario = scenario
        self.clock = SimClock(clock_offset)
        self.world = World(self.clock, seed)
        self.world.latency_ms = float(latency_ms)
        self.world.jitter_ms = float(jitter_ms)
        self.app = SimulatorApp(self.world, auto_approve=auto_approve)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sntp: SntpServer | None = None
        self._error: BaseException | None = None
        self.base_url = ""
        self.trading_url = ""
        self.sntp_address: tuple[str, int] = (host, 0)

    # --- life cycle -------------------------------------------------------------------------------

    def start(self) -> SimulatorServer:
        if self._thread is not None:
            raise RuntimeError("simulator already started")
        # proto must say TCP: asyncio only sets TCP_NODELAY on accepted sockets whose proto is IPPROTO_TCP,
        # and without it a reply written as headers + body waits ~40 ms on delayed ACKs.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(1024)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        scheme = "https" if self.ssl_certfile else "http"
        self.base_url = f"{scheme}://{self.host}:{self.port}"
        self.trading_url = self.base_url + "/ws/api.dll"
        with self.world.lock:
            self.world.base_url = self.base_url
            scenarios.seed(self.world, self.scenario)
        if self.sntp_port is not None:
            self._sntp = SntpServer(self.clock, self.host, self.sntp_port)
            self.sntp_address = self._sntp.address
            self._sntp.start()
        config = uvicorn.Config(
            self.app.asgi,
            loop="asyncio",
            http="auto",  # httptools when installed, else h11
            lifespan="off",
            log_level="warning",
            access_log=False,
            proxy_headers=False,
            server_header=False,
            date_header=True,
            timeout_graceful_shutdown=1,
            timeout_keep_alive=30,
            ssl_certfile=self.ssl_certfile,
            ssl_keyfile=self.ssl_keyfile,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, args=(sock,), name="sim-http", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(f"simulator failed to start: {self._error!r}")
            if time.monotonic() > deadline:
                raise RuntimeError("simulator did not start in time")
            time.sleep(0.005)
        return self

    def _run(self, sock: socket.socket) -> None:
        # A fresh loop owned by this thread; uvicorn installs no signal handlers off the main thread.
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            assert self._server is not None
            self.app.stopping = asyncio.Event()
            self.app.asgi.stopping = self.app.stopping
            loop.run_until_complete(self._server.serve(sockets=[sock]))
        except BaseException as exc:  # reported to start()/stop() rather than lost on a thread
            self._error = exc
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            sock.close()

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            if self._loop is not None and not self._loop.is_closed():
                with contextlib.suppress(RuntimeError):
                    self._loop.call_soon_threadsafe(self.app.stopping.set)
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._sntp is not None:
            self._sntp.stop()
            self._sntp = None
        self._thread = None
        self._server = None

    def run_forever(self) -> None:
        """Block until the server stops (the CLI's main loop)."""
        if self._thread is not None:
            while self._thread.is_alive():
                self._thread.join(timeout=0.5)

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- Python conveniences (same effects as the control API) ------------------------------------

    def now(self) -> float:
        """The simulator's clock, epoch seconds."""
        return self.clock.now()

    def set_clock_offset(self, offset_s: float) -> None:
        self.clock.offset_s = float(offset_s)

    def set_network(self, latency_ms: float, jitter_ms: float = 0.0) -> None:
        with self.world.lock:
            self.world.latency_ms, self.world.jitter_ms = float(latency_ms), float(jitter_ms)

    def create_auction(
        self,
        title: str = "Test auction",
        start_price: str = "10.00",
        ends_in: float = 120.0,
        *,
        currency: str | None = None,
        marketplace: str = "EBAY_US",
        watched_by: list[str] | None = None,
        rivals: list[dict[str, Any]] | None = None,
        reserve: str | None = None,
        buy_it_now: str | None = None,
        shipping: str | None = "0.00",
        image_url: str | None = None,
        fixed_price: bool = False,
        import_charges: str | None = None,
    ) -> dict[str, Any]:
        """Create an auction (or, with ``fixed_price``, a Buy It Now listing).

        Returns the control API's reply (legacy_item_id, item_id, end_time, end_epoch).
        """
        from .world import currency_for

        with self.world.lock:
            a = self.world.create_auction(
                title=title,
                start_minor=parse_minor(start_price),
                currency=currency or currency_for(marketplace),
                marketplace=marketplace,
                ends_in=ends_in,
                watched_by=list(watched_by or []),
                rivals=[
                    (str(r.get("user") or f"rival{i + 1}"), parse_minor(str(r["max"])), float(r.get("before_end", 2.0)))
                    for i, r in enumerate(rivals or [])
                ],
                reserve_minor=parse_minor(reserve) if reserve else None,
                bin_minor=parse_minor(buy_it_now) if buy_it_now else None,
                image_url=image_url,
                shipping_minor=parse_minor(shipping) if shipping is not None else None,
                fixed_price=fixed_price,
                import_charges_minor=parse_minor(import_charges) if import_charges is not None else None,
            )
            return {"legacy_item_id": a.legacy_id, "item_id": a.item_id, "end_time": iso_ms(a.end_epoch),
                    "end_epoch": a.end_epoch}

    def auction(self, legacy_item_id: str) -> dict[str, Any]:
        """The control API's view of one auction (status, price, winner, bids with arrival times)."""
        with self.world.lock:
            a = self.world.find_auction(legacy_item_id)
            if a is None:
                raise KeyError(legacy_item_id)
            return self.world.auction_json(a)

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        with self.world.lock:
            return self.world.requests_since(since)

    def emails(self) -> list[dict[str, Any]]:
        """Every message its Postmark-compatible ``POST /email`` accepted, oldest first."""
        with self.world.lock:
            return list(self.world.emails)

    def reject_emails(self, count: int, error_code: int = 406, message: str | None = None) -> None:
        """Refuse the next ``count`` emails with Postmark's 422 ``error_code`` (a permanent failure)."""
        with self.world.lock:
            rejects = self.world.email_rejects
            rejects.remaining, rejects.error_code = count, error_code
            if message:
                rejects.message = message

    def add_fault(
        self,
        path: str,
        kind: str = "status",
        *,
        count: int = 1,
        status: int = 503,
        method: str | None = None,
        retry_after: float = 1.0,
        hang_s: float = 30.0,
        drip_s: float = 5.0,
    ) -> None:
        import re

        with self.world.lock:
            self.world.faults.append(
                Fault(re.compile(path), method, count, kind, status, retry_after, hang_s, drip_s)
            )

    def authorize_url(self, scopes: list[str], state: str = "state", user: str | None = None) -> str:
        return authorize_url(self.base_url, scopes, state, user)


logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
