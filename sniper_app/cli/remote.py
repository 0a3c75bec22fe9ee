"""``sniper-app remote``: pair this computer with a Sniper box, or invite desktops to the box it runs on.

On the box: ``remote invite`` prints an invite (alone on its last line, for scripts and copying), and
``remote invite --revoke`` ends every pairing. On the desktop: ``remote connect INVITE`` pairs and keeps the
link in the secret store, after which every command acts on the box; ``remote disconnect`` returns to the
local engine; ``remote status`` says how the box is doing.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
from pathlib import Path
from typing import Any

from sniper_app.cli.context import command_context, stored_link
from sniper_app.cli.output import EXIT_OK, Output
from sniper_app.cli.parsing import CommandParser, json_flag, missing_action
from sniper_app.domain.errors import InputError, SniperError
from sniper_app.domain.text import visible


def add_commands(sub: Any) -> None:
    """The ``remote`` command group."""
    remote = sub.add_parser("remote", help="drive a Sniper box from this computer, or invite desktops to this box")
    remote_sub = remote.add_subparsers(dest="remote_command", metavar="ACTION", parser_class=CommandParser)
    remote.set_defaults(handler=missing_action(remote))

    invite = remote_sub.add_parser(
        "invite", help="on the box: print a one-time invite for a desktop ('remote connect' there)"
    )
    invite.add_argument("--address", metavar="HOST[:PORT]",
                        help="how desktops reach this box (default: where it listens)")
    invite.add_argument("--revoke", action="store_true", help="end every pairing and pending invite instead")
    json_flag(invite)
    invite.set_defaults(handler=_invite)

    connect = remote_sub.add_parser("connect", help="pair with the box an invite names; commands then act on it")
    connect.add_argument("invite", metavar="INVITE")
    connect.add_argument("--name", metavar="NAME", help="how the box knows this computer (default: its name)")
    json_flag(connect)
    connect.set_defaults(handler=_connect)

    disconnect = remote_sub.add_parser("disconnect", help="forget the box; commands act on this computer again")
    json_flag(disconnect)
    disconnect.set_defaults(handler=_disconnect)

    status = remote_sub.add_parser("status", help="the box's address, certificate, latency and engine state")
    json_flag(status)
    status.set_defaults(handler=_status)


class RemoteFailed(SniperError):
    """The box could not be reached or refused; one sentence."""


def _box_data_dir(args: argparse.Namespace) -> Path:
    from sniper_app import paths
    from sniper_app.bootstrap import demo_dir
    from sniper_app.config import load_settings

    settings = load_settings()
    return paths.ensure_private_dir(demo_dir(settings) if args.demo else settings.resolved_data_dir())


def _invite(args: argparse.Namespace, out: Output) -> int:
    from sniper_app.config import DEFAULT_LISTEN_PORT, load_settings
    from sniper_app.remote.auth import INVITE_TTL, Pairings
    from sniper_app.remote.box import invite_host, read_state
    from sniper_app.remote.certs import CertificateError, ensure_identity
    from sniper_app.remote.invite import Address, Invite, InviteError, format_invite, parse_address, parse_listen

    data_dir = _box_data_dir(args)
    pairings = Pairings(data_dir)
    if args.revoke:
        ended = pairings.revoke_all()
        out.result({"revoked": ended},
                   f"Ended {ended} pairing{'s' if ended != 1 else ''} and every pending invite; paired desktops "
                   "are refused from their next request.")
        return EXIT_OK
    running = read_state(data_dir)
    try:
        if args.address is not None:
            port = running.port if running is not None else DEFAULT_LISTEN_PORT
            address = parse_address(args.address, default_port=port)
        elif running is not None:
            address = Address(invite_host(running.host), running.port)
        else:
            listen = load_settings().listen
            if listen is None:
                raise InputError(
                    "This box does not listen for desktops yet: start it with '--headless --listen [HOST:]PORT' "
                    "(or set 'listen'), or say how desktops reach it with --address HOST[:PORT]."
                )
            bound = parse_listen(listen, default_port=DEFAULT_LISTEN_PORT)
            address = Address(invite_host(bound.host), bound.port)
    except InviteError as exc:
        raise InputError(str(exc)) from None
    try:
        identity = ensure_identity(data_dir, address.host)
    except CertificateError as exc:
        raise RemoteFailed(str(exc)) from None
    invite = format_invite(Invite(address, identity.fingerprint, pairings.new_invite()))
    hours = int(INVITE_TTL.total_seconds() // 3600)
    if args.json:
        out.result({"invite": invite, "address": str(address), "fingerprint": identity.fingerprint,
                    "expires_in_hours": hours, "box_running": running is not None}, "")
        return EXIT_OK
    lines = [
        f"Invite for the box at {address} (certificate {identity.display_fingerprint}).",
        f"It pairs one desktop, once, within {hours} hours; keep it as private as a password.",
        "On the desktop run: sniper-app remote connect INVITE",
    ]
    if running is None:
        lines.append("This box is not listening right now: start it with '--headless --listen' before connecting.")
    lines.append(invite)
    out.result({}, "\n".join(lines))
    return EXIT_OK


def _connect(args: argparse.Namespace, out: Output) -> int:
    from sniper_app.remote.certs import display_fingerprint
    from sniper_app.remote.service import BoxUnavailable, DesktopLink, engine_words

    name = (args.name or socket.gethostname() or "desktop").strip()
    with command_context(args) as ctx:
        try:
            paired = asyncio.run(DesktopLink(ctx.data_dir, ctx.secrets).connect(args.invite, name))
        except BoxUnavailable as exc:
            raise RemoteFailed(str(exc)) from None
    link, status, previous = paired.link, paired.status, paired.replaced
    replaced = f" (instead of the box at {previous.address})" if previous and previous.address != link.address else ""
    out.result(
        {"connected": True, "address": str(link.address), "fingerprint": link.fingerprint, "box": status},
        f"Connected to the Sniper box at {link.address}{replaced} (certificate "
        f"{display_fingerprint(link.fingerprint)[:23]}…). Its engine is {engine_words(status)}; every command "
        "now acts on it, and this computer runs no engine of its own. 'sniper-app remote disconnect' undoes this.",
    )
    return EXIT_OK


def _disconnect(args: argparse.Namespace, out: Output) -> int:
    from sniper_app.remote.service import DesktopLink

    with command_context(args) as ctx:
        box = asyncio.run(DesktopLink(ctx.data_dir, ctx.secrets).disconnect())
    if box is None:
        out.result({"disconnected": None}, "This computer was not connected to a box.")
        return EXIT_OK
    out.result(
        {"disconnected": box},
        f"Disconnected from the box at {box}; commands act on this computer's own data again. The box "
        "keeps sniping; end its pairing there with 'sniper-app remote invite --revoke'.",
    )
    return EXIT_OK


def _status(args: argparse.Namespace, out: Output) -> int:
    from sniper_app.remote.certs import display_fingerprint
    from sniper_app.remote.service import active_words, engine_words, status_and_latency

    with command_context(args) as ctx:
        link = stored_link(ctx)
    if link is None:
        out.result({"connected": False}, "Not connected to a box: commands act on this computer's own engine.")
        return EXIT_OK
    status, latency = asyncio.run(status_and_latency(link))
    upcoming = status.get("next_snipe")
    clock = status.get("clock") or {}
    data = {
        "connected": True,
        "address": str(link.address),
        "fingerprint": link.fingerprint,
        "latency_ms": round(latency * 1000, 1),
        "box": status,
    }
    lines = [
        f"Box: {link.address} (Sniper {visible(str(status.get('version', '?')))})",
        f"Certificate: {display_fingerprint(link.fingerprint)}",
        f"Latency: {latency * 1000:.1f} ms",
        f"Engine: {engine_words(status)}; {active_words(status)}",
    ]
    if isinstance(upcoming, dict):
        lines.append(f"Next snipe: #{upcoming.get('id')} {visible(str(upcoming.get('title') or ''))}, bids at "
                     f"{upcoming.get('fire_at')}")
    if clock:
        lines.append(f"Box's clock: {'synced' if clock.get('synced') else 'not synced'}, offset "
                     f"{float(clock.get('offset_s') or 0) * 1000:+.1f} ms")
    out.result(data, "\n".join(lines))
    return EXIT_OK
