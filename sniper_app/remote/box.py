"""The box's side of the wiring: a running engine's facade behind the remote server.

:func:`facade_calls` turns the facade's whitelisted methods into the server's calls: arguments are read
back into the types the method declares (:mod:`.wire`), the method runs on the engine's loop as the window
would call it, and its result goes out in the shape its return type declares. The whitelist is written out
name by name below; a method is served only when it is listed, and none listed returns a secret (a test
walks every result type for a field that could hold one).

The facade's refusals travel as they are: an error of the app's own family becomes a 4xx with its sentence
and its class name as ``code``, so the desktop raises the same class with the same sentence, and the
command line's exit codes stay the same whichever engine answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import os
import socket
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from sniper_app import __version__
from sniper_app.domain.errors import InputError, SniperError
from sniper_app.remote.server import Call, CallRefused, EventHub
from sniper_app.remote.wire import WireError, from_wire, to_wire

if TYPE_CHECKING:
    from sniper_app.config import Settings
    from sniper_app.engine.bus import Event, EventBus
    from sniper_app.engine.service import SniperService
    from sniper_app.remote.certs import Identity
    from sniper_app.remote.server import RemoteServer

log = logging.getLogger(__name__)

# The facade's commands the command line and the window use (engine controls included).
COMMANDS: Final = (
    "add_snipe", "edit_snipe", "cancel_snipe", "add_group", "sync_watchlist", "preview_item",
    "start_link", "complete_link", "account_status", "unlink", "set_paused", "measure_clock",
)
# Its reads (``exposure`` without arguments counts under the box's own cap).
# Not served: ``iter_history`` (the desktop pages ``history_page`` itself), ``history_counter``
# and ``release_thread`` (local threads), ``apply_settings`` (a box's settings are its own).
READS: Final = (
    "snipes", "active_snipes", "snipe", "find_snipe", "get_snipe", "lead_choice", "groups", "group_summaries",
    "list_groups", "watch_items", "history_page", "count_history", "account", "linked_username",
    "pending_count", "clock_state", "metrics_snapshot", "exposure", "record",
)
WHITELIST: Final = COMMANDS + READS

# The settings that steer the box's engine, which a paired desktop reads and changes on the box ('config
# show/set' while connected): leads, the cap, the watch-list sync and the notification switches. Not the
# addresses, accounts and folders the box runs on (eBay's URLs and keys, data_dir, listen), nor any field
# that names where a secret goes; those are changed on the box itself. Both calls go through the box's
# settings file with the same validation as its own 'config set', and its engine applies them live.
ENGINE_SETTINGS: Final = (
    "default_lead_seconds", "auto_lead", "min_seconds_before_end", "watchlist_sync_minutes",
    "history_retention_days", "marketplace", "notify_email", "notify_ending_minutes", "notify_summary_hour",
    "notify_email_types", "notify_ntfy", "notify_ntfy_types", "notify_webhook", "notify_webhook_types",
    "spending_cap", "spending_period_days",
)
SETTINGS_CALLS: Final = ("engine_settings", "change_engine_setting")

STATE_FILE = "remote-listen.json"  # where a running box says where it listens, for 'remote invite'


class ListenFailed(SniperError):
    """The box cannot serve paired desktops (port taken, certificate unreadable); one sentence."""


def refusal(exc: SniperError) -> CallRefused:
    """The facade's error as the 4xx that carries it: the sentence, and the class for the desktop."""
    status = 422 if isinstance(exc, InputError) else 409
    return CallRefused(str(exc), status=status, code=type(exc).__name__)


def signature_of(method: Callable[..., Any]) -> tuple[inspect.Signature, dict[str, Any]]:
    """The method's parameters and their declared types (resolved, the return type under ``return``)."""
    return inspect.signature(method), typing.get_type_hints(method)


def _call_of(name: str, method: Callable[..., Any]) -> Call:
    sig, hints = signature_of(method)
    returns = hints.get("return", Any)

    async def call(args: dict[str, Any]) -> Any:
        kwargs: dict[str, Any] = {}
        for key, raw in args.items():
            if key not in sig.parameters or key == "self":
                raise CallRefused(f"{name} takes no argument named {key[:40]!r}.", status=400, code="bad_request")
            try:
                kwargs[key] = from_wire(hints.get(key, Any), raw)
            except WireError as exc:
                raise CallRefused(f"{name}: the argument {key}: {exc}", status=400, code="bad_request") from None
        try:
            sig.bind(**kwargs)
        except TypeError as exc:
            raise CallRefused(f"{name}: {exc}.", status=400, code="bad_request") from None
        try:
            result = method(**kwargs)
            if inspect.isawaitable(result):
                result = await result
        except SniperError as exc:
            raise refusal(exc) from None
        return to_wire(result, returns)

    return call


def facade_calls(service: SniperService) -> dict[str, Call]:
    """The whitelist as the server's calls, bound to ``service``."""
    return {name: _call_of(name, getattr(service, name)) for name in WHITELIST}


def _engine_values(settings: Settings) -> dict[str, Any]:
    data: dict[str, Any] = settings.model_dump(mode="json", include=set(ENGINE_SETTINGS))
    return {name: data[name] for name in ENGINE_SETTINGS}


def settings_calls(service: SniperService, settings_file: Path | None = None) -> dict[str, Call]:
    """``engine_settings`` and ``change_engine_setting``: the box's engine settings as the box has saved them
    (its environment's overrides included), and one of them changed through the box's own validation."""
    from sniper_app.config import APPLIES, SettingsError, env_name, load_settings, save_settings

    def saved(environ: dict[str, str] | None = None) -> Settings:
        try:
            return load_settings(environ, settings_file)
        except SettingsError:  # a hand edit the engine refused: it keeps running on what it had
            return service.settings

    async def read(args: dict[str, Any]) -> Any:
        if args:
            raise CallRefused("engine_settings takes no arguments.", status=400, code="bad_request")
        return _engine_values(await asyncio.to_thread(saved))

    async def change(args: dict[str, Any]) -> Any:
        field, value = args.get("field"), args.get("value")
        if set(args) - {"field", "value"} or not isinstance(field, str):
            raise CallRefused("change_engine_setting takes a field name and a value.", status=400, code="bad_request")
        if field not in ENGINE_SETTINGS:
            raise refusal(SettingsError(
                f"'{field[:40]}' is not one of the box's engine settings; a desktop may change "
                f"{', '.join(ENGINE_SETTINGS)}. Change the others on the box itself."))
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise CallRefused(f"The value of {field} must be text or a number.", status=400, code="bad_request")
        try:
            await asyncio.to_thread(save_settings, {field: value}, settings_file)
        except SettingsError as exc:
            raise refusal(exc) from None
        except OSError as exc:
            raise CallRefused(f"The box could not write its settings ({exc.strerror or exc}).", status=409,
                              code="SettingsError") from None
        written = await asyncio.to_thread(saved, {})
        override = env_name(field) if os.environ.get(env_name(field)) is not None else None
        return {"field": field, "value": _engine_values(written)[field], "applies": APPLIES[field],
                "overridden_by": override}

    return {"engine_settings": read, "change_engine_setting": change}


def status_of(service: SniperService) -> Callable[[], Awaitable[dict[str, Any]]]:
    """``/v1/status``: what a desktop shows of the box at a glance."""

    async def status() -> dict[str, Any]:
        active = service.active_snipes()
        upcoming = min(active, key=lambda s: s.fire_at, default=None)
        clock = service.clock_state()
        return {
            "version": __version__,
            "box_time": datetime.now(UTC).isoformat(),
            "engine_running": True,
            "state": "paused" if service.paused else "running",
            "account": service.linked_username(),
            "sign_in_problem": await service.accounts.sign_in_problem(),
            "active_snipes": len(active),
            "next_snipe": None if upcoming is None else {
                "id": upcoming.id, "title": upcoming.title, "end_time": upcoming.end_time.isoformat(),
                "fire_at": upcoming.fire_at.isoformat(),
            },
            "clock": {"synced": clock.synced, "offset_s": clock.offset_s, "latency_s": clock.latency_s},
        }

    return status


def event_data(event: Event) -> dict[str, Any] | None:
    """A bus event as a plain message (``type`` names it), or None for one that stays on the box."""
    from sniper_app.engine.bus import SettingsApplied

    if isinstance(event, SettingsApplied):  # the box's own settings: nothing a desktop acts on
        return None
    data = to_wire(event, type(event))
    return {"type": type(event).__name__, **(data if isinstance(data, dict) else {})}


def forward_events(bus: EventBus, hub: EventHub) -> Callable[[], None]:
    """Publish the engine's events to the WebSocket subscribers; returns the unsubscriber."""
    from sniper_app.engine.bus import Event

    def forward(event: Event) -> None:
        message = event_data(event)
        if message is not None and hub.subscribers:
            hub.publish(message)

    return bus.subscribe(Event, forward)


@dataclass(frozen=True)
class Listening:
    host: str
    port: int
    fingerprint: str


def write_state(data_dir: Path, listening: Listening) -> None:
    from sniper_app.paths import write_private_json

    write_private_json(data_dir / STATE_FILE, {
        "pid": os.getpid(), "host": listening.host, "port": listening.port, "fingerprint": listening.fingerprint,
    })


def read_state(data_dir: Path) -> Listening | None:
    """Where the box of ``data_dir`` listens, when it runs (a stale file of a stopped box says nothing)."""
    try:
        state = json.loads((data_dir / STATE_FILE).read_text(encoding="utf-8"))
        pid, host, port = int(state["pid"]), str(state["host"]), int(state["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return Listening(host, port, str(state.get("fingerprint", "")))


def invite_host(listen_host: str) -> str:
    """The host an invite names for a box that listens on ``listen_host``: itself, or the machine's name when
    it listens on every address (the user may name another with --address)."""
    if listen_host in ("", "0.0.0.0", "::"):  # noqa: S104 - names, not a bind
        return socket.gethostname() or "localhost"
    return listen_host


class BoxServer:
    """The remote server of a running engine: its identity, pairings, calls, status and events."""

    def __init__(self, service: SniperService, bus: EventBus, data_dir: Path, host: str, port: int) -> None:
        self.service, self.bus, self.data_dir, self.host, self.port = service, bus, data_dir, host, port
        self.identity: Identity | None = None
        self._server: RemoteServer | None = None
        self._unsubscribe: Callable[[], None] | None = None

    async def start(self) -> Listening:
        from sniper_app.remote.auth import Backoff, Pairings
        from sniper_app.remote.certs import CertificateError, ensure_identity
        from sniper_app.remote.server import RemoteServer, RemoteServerError, build_app

        try:
            identity = ensure_identity(self.data_dir, self.host)
        except CertificateError as exc:
            raise ListenFailed(str(exc)) from None
        hub = EventHub()
        app = build_app(Pairings(self.data_dir), Backoff(), events=hub, status=status_of(self.service),
                        calls=facade_calls(self.service) | settings_calls(self.service))
        server = RemoteServer(app, identity, self.host, self.port)
        try:
            await server.start()
        except RemoteServerError as exc:
            raise ListenFailed(str(exc)) from None
        self.identity, self._server = identity, server
        self._unsubscribe = forward_events(self.bus, hub)
        listening = Listening(self.host, server.port, identity.fingerprint)
        with contextlib.suppress(OSError):
            write_state(self.data_dir, listening)
        return listening

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        (self.data_dir / STATE_FILE).unlink(missing_ok=True)
        if self._server is not None:
            server, self._server = self._server, None
            await server.stop()


def exposed_types(service_type: type[Any]) -> Mapping[str, Any]:
    """Each whitelisted method's declared return type (for the test that no secret can leave)."""
    return {name: typing.get_type_hints(getattr(service_type, name)).get("return", Any) for name in WHITELIST}
