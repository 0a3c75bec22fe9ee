"""``sniper-app stats``: the user's record — won and lost by month, saved against maxima, win rate by lead."""

from __future__ import annotations

import argparse
from typing import Any

from sniper_app.cli.context import command_session
from sniper_app.cli.output import EXIT_OK, Output
from sniper_app.cli.parsing import json_flag
from sniper_app.domain.stats import Record


def add_commands(sub: Any) -> None:
    stats = sub.add_parser("stats", help="your record: won and lost by month, money saved, win rate by lead time")
    json_flag(stats)
    stats.set_defaults(handler=_stats)


def _stats(args: argparse.Namespace, out: Output) -> int:
    with command_session(args) as session:
        record = session.run(lambda facade: facade.record())
    out.result(record.as_dict(), record_text(record))
    return EXIT_OK


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    """Left-aligned first column, the numbers right-aligned under their headings."""
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        return "  ".join(cells).rstrip()

    return [line(header), *(line(r) for r in rows)]


def record_text(record: Record) -> str:
    if record.total == 0:
        return "No ended snipes yet: your record starts when the first one ends."
    plural = "s" if record.total != 1 else ""
    lines = [f"Your record over {record.total} ended snipe{plural}.", "", "Won and lost by month (UTC):"]
    if record.months:
        lines += _table(("Month", "Won", "Lost"), [(m.month, str(m.won), str(m.lost)) for m in record.months])
    else:
        lines.append("  none won or lost yet")
    lines += ["", "Money saved against your maxima:"]
    if record.saved:
        lines += _table(
            ("Currency", "Saved", "Spent"),
            [(cur, saved.format(), record.spent[cur].format()) for cur, saved in record.saved.items()],
        )
    else:
        lines.append("  nothing won yet")
    lines += ["", "Win rate by lead time (bids that went out):"]
    lines += _table(
        ("Lead", "Tries", "Wins", "Rate"),
        [(b.label, str(b.tries), str(b.wins), "—" if b.win_rate is None else f"{b.win_rate:.0%}")
         for b in record.leads],
    )
    lines += ["", "Outcomes:"]
    lines += _table(("Outcome", "Count"), [(code.value, str(n)) for code, n in record.codes])
    return "\n".join(lines)
