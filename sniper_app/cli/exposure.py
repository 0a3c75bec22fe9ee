"""``sniper-app exposure``: what the active snipes could cost, per currency, against the spending cap."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from sniper_app.cli.context import command_session
from sniper_app.cli.formatting import amount
from sniper_app.cli.output import EXIT_OK, Output
from sniper_app.cli.parsing import json_flag
from sniper_app.domain.money import Money

if TYPE_CHECKING:
    from sniper_app.domain.views import ExposureRow, ExposureView


def add_commands(sub: Any) -> None:
    exposure = sub.add_parser(
        "exposure", help="the most your active snipes could cost, per currency, with wins and the spending cap"
    )
    json_flag(exposure)
    exposure.set_defaults(handler=_exposure)


def _row_data(row: ExposureRow) -> dict[str, Any]:
    return {
        "currency": row.currency,
        "exposure": amount(row.pending_minor, row.currency),
        # The part of the exposure that is shipping and import charges on top of the maxima.
        "shipping": amount(row.shipping_minor, row.currency),
        "won": amount(row.won_minor, row.currency),
        "cap": amount(row.cap_minor, row.currency),
        "room": amount(row.room_minor, row.currency),
    }


def _row_line(row: ExposureRow, days: str) -> str:
    def money(minor: int) -> str:
        return Money(minor, row.currency).format()

    shipping = f" including {money(row.shipping_minor)} shipping" if row.shipping_minor > 0 else ""
    line = (f"{row.currency}: exposure {money(row.pending_minor)}{shipping}, won in the last {days} "
            f"{money(row.won_minor)}")
    if row.cap_minor is None or row.room_minor is None:
        return line + ", no spending cap."
    return line + f", cap {money(row.cap_minor)}, room left {money(row.room_minor)}."


def exposure_text(view: ExposureView) -> str:
    days = "day" if view.period_days == 1 else f"{view.period_days} days"
    if not view.rows:
        return f"Nothing pending and nothing won in the last {days}; no spending cap is set."
    return "\n".join(_row_line(row, days) for row in view.rows)


def _exposure(args: argparse.Namespace, out: Output) -> int:
    # Without a cap given, each engine counts under its own: the box's settings while connected to one.
    with command_session(args) as session:
        view = session.run(lambda facade: facade.exposure())
        out.result({"period_days": view.period_days, "currencies": [_row_data(r) for r in view.rows]},
                   exposure_text(view))
    return EXIT_OK
