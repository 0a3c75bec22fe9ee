"""``sniper-app config``: show or change settings, and where things are kept."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from typing import TYPE_CHECKING, Any

from sniper_app.cli.context import command_context, say_this_computer, stored_link
from sniper_app.cli.output import EXIT_OK, Output
from sniper_app.cli.parsing import CommandParser, missing_action

if TYPE_CHECKING:
    from sniper_app.remote.credentials import RemoteLink


def add_commands(sub: Any) -> None:
    """The ``config`` command group."""
    config = sub.add_parser("config", help="show or change settings")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", parser_class=CommandParser)
    config.set_defaults(handler=missing_action(config))
    show = config_sub.add_parser("show", help="print the settings in force")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=_config_show)
    set_ = config_sub.add_parser("set", help="save a setting, e.g. 'config set default_lead_seconds 7'")
    set_.add_argument("field")
    set_.add_argument("value")
    set_.add_argument("--json", action="store_true", help="print JSON")
    set_.set_defaults(handler=_config_set)
    path = config_sub.add_parser("path", help="print where settings, data and logs are kept")
    path.add_argument("--json", action="store_true", help="print JSON")
    path.set_defaults(handler=_config_path)


def _driven_box(args: argparse.Namespace) -> RemoteLink | None:
    """The box this desktop drives (None with --demo or when it runs its own engine)."""
    from sniper_app.config import SettingsError, load_settings
    from sniper_app.remote.credentials import marked_box

    if args.demo:
        return None
    try:
        data_dir = load_settings().resolved_data_dir()
    except SettingsError:
        return None  # this computer's own settings are broken: mending them comes first, and is local
    if marked_box(data_dir) is None:
        return None
    with command_context(args) as ctx:
        return stored_link(ctx)


def _lines(data: dict[str, Any]) -> list[str]:
    return [f"{key} = {'' if value is None else value}" for key, value in data.items()]


def _config_show(args: argparse.Namespace, out: Output) -> int:
    from sniper_app.config import load_settings

    if args.demo:
        from sniper_app.app import running_demo_settings

        settings = running_demo_settings()  # the running demo's, its simulated eBay's addresses included
    else:
        settings = load_settings()
    data = settings.model_dump(mode="json")
    link = _driven_box(args)
    if link is None:
        out.result(data, "\n".join(_lines(data)))
        return EXIT_OK
    # The engine's settings are the box's, read there; the rest (folders, eBay keys, the link) are this
    # computer's. The result keeps its one flat shape, and the note says whose is which.
    from sniper_app.remote.service import RemoteService

    async def read() -> dict[str, Any]:
        async with RemoteService.of(link) as service:
            return await service.engine_settings()

    box = asyncio.run(read())
    data |= {key: value for key, value in box.items() if key in data}
    local = {key: value for key, value in data.items() if key not in box}
    out.result(data, "\n".join([f"# The engine's settings, on the box at {link.address}:", *_lines(box), "",
                                "# This computer's settings:", *_lines(local)]))
    if out.as_json:  # the text says it in its headings
        note = (f"The engine's settings ({', '.join(box)}) are the box's at {link.address}; the rest are this "
                "computer's.")
        print(json.dumps({"note": note, "box": str(link.address), "box_settings": list(box)}), file=out.err)
    return EXIT_OK


def _config_set(args: argparse.Namespace, out: Output) -> int:
    from sniper_app.config import APPLIES, FIELDS, SettingsError, env_name, load_settings, save_settings

    if args.field not in FIELDS:
        raise SettingsError(f"Unknown setting '{args.field}'. Settings are: {', '.join(FIELDS)}.")
    value: Any = None if args.value == "" else args.value
    link = _driven_box(args)
    if link is not None:
        from sniper_app.remote.box import ENGINE_SETTINGS  # the server's module: only when a box is driven

        if args.field in ENGINE_SETTINGS:
            return _set_on_box(link, args.field, value, out)
    save_settings({args.field: value})
    # What was saved, not what is in force: a SNIPER_<FIELD> variable may override it, and that is said.
    saved_settings = load_settings(environ={})
    saved = getattr(saved_settings, args.field)
    override = os.environ.get(env_name(args.field))
    data = {args.field: json.loads(saved_settings.model_dump_json(include={args.field}))[args.field]}
    text = f"{args.field} = {'' if saved is None else saved}"
    if override is not None:
        data["overridden_by"] = env_name(args.field)
        text += f" (saved; {env_name(args.field)} overrides it while set)"
    out.result(data, text)
    # Beside the result, not in it: the result stays the saved value that scripts already read.
    applies = APPLIES[args.field]
    note = ("A running Sniper applies it within seconds." if applies == "live"
            else "A running Sniper keeps the old value until it restarts.")
    print(json.dumps({"applies": applies, "note": note}) if out.as_json else note, file=out.err)
    say_this_computer(args, out, "This changed the settings of")
    return EXIT_OK


def _set_on_box(link: RemoteLink, field: str, value: str | None, out: Output) -> int:
    """Change one of the engine's settings on the box this desktop drives; the box validates and saves it."""
    from sniper_app.remote.service import RemoteService

    async def change() -> dict[str, Any]:
        async with RemoteService.of(link) as service:
            return await service.change_engine_setting(field, value)

    done = asyncio.run(change())
    saved = done.get("value")
    data: dict[str, Any] = {field: saved, "box": str(link.address)}
    text = f"{field} = {'' if saved is None else saved} (on the box at {link.address})"
    if done.get("overridden_by"):
        data["overridden_by"] = done["overridden_by"]
        text += f"; the box's {done['overridden_by']} overrides it while set"
    out.result(data, text)
    note = ("The box's engine applies it within seconds." if done.get("applies") == "live"
            else "The box keeps the old value until it restarts.")
    print(json.dumps({"applies": done.get("applies"), "note": note}) if out.as_json else note, file=out.err)
    return EXIT_OK


def _config_path(args: argparse.Namespace, out: Output) -> int:
    from sniper_app import paths
    from sniper_app.config import load_settings, settings_path

    if args.demo:
        from sniper_app.bootstrap import demo_dir
        from sniper_app.config import SETTINGS_FILE

        data_dir = demo_dir(load_settings(path=paths.user_config_dir() / SETTINGS_FILE))
    else:
        data_dir = load_settings().resolved_data_dir()
    data = {
        "settings": str(settings_path()),
        "data": str(data_dir),
        "logs": str(paths.log_dir()),
    }
    out.result(data, "\n".join(f"{key}: {value}" for key, value in data.items()))
    return EXIT_OK

