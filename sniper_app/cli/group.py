"""``sniper-app group``: groups of snipes (win N of these)."""

from __future__ import annotations

import argparse
from typing import Any

from sniper_app.cli.context import command_session
from sniper_app.cli.output import EXIT_OK, Output
from sniper_app.cli.parsing import CommandParser, json_flag, missing_action, wins_arg
from sniper_app.domain.text import visible


def add_commands(sub: Any) -> None:
    """The ``group`` command group."""
    group = sub.add_parser("group", help="groups of snipes: win N of these")
    group_sub = group.add_subparsers(dest="group_command", metavar="ACTION", parser_class=CommandParser)
    group.set_defaults(handler=missing_action(group))
    gadd = group_sub.add_parser("add", help="create a group")
    gadd.add_argument("name", metavar="NAME")
    gadd.add_argument("--wins", type=wins_arg, default=1, metavar="N", help="stop after winning N (default 1)")
    json_flag(gadd)
    gadd.set_defaults(handler=_group_add)
    glist = group_sub.add_parser("list", help="list groups")
    json_flag(glist)
    glist.set_defaults(handler=_group_list)


def _group_add(args: argparse.Namespace, out: Output) -> int:
    with command_session(args) as session:
        group = session.run(lambda facade: facade.add_group(args.name, args.wins))
        out.result(
            {"id": group.id, "name": group.name, "target_wins": group.target_wins},
            f"Group “{group.name}” created: win {group.target_wins} and the rest are cancelled. "
            f"Add snipes to it with 'snipe add ITEM MAX --group \"{group.name}\"'.",
        )
    return EXIT_OK


def _group_list(args: argparse.Namespace, out: Output) -> int:
    with command_session(args) as session:
        groups = session.run(lambda facade: facade.group_summaries())
        out.result(
            [
                {"id": g.group.id, "name": g.group.name, "target_wins": g.group.target_wins,
                 "members": g.members, "active": g.active, "won": g.won}
                for g in groups
            ],
            "\n".join(
                f"{visible(g.group.name)}: win {g.group.target_wins} — "
                f"{g.members} snipe{'s' if g.members != 1 else ''}, "
                f"{g.active} active, {g.won} won"
                for g in groups
            ) or "No groups yet (create one with 'sniper-app group add NAME --wins N').",
        )
    return EXIT_OK

