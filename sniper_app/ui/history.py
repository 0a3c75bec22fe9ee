"""History filters and CSV export (Qt-free): what the History view shows, walked page by page."""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable
from datetime import UTC
from decimal import Decimal
from pathlib import Path
from typing import Final

from sniper_app.domain.money import Money, MoneyError
from sniper_app.domain.views import HistoryFilter as HistoryFilter
from sniper_app.engine.reads import Reads

CSV_COLUMNS: Final = (
    "time_utc",
    "action",
    "status",
    "snipe_id",
    "item_id",
    "title",
    "amount",
    "final_price",
    "currency",
    "message",
)
# A cell starting with one of these is run as a formula by spreadsheets; titles come from strangers.
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def plain_amount(minor: int | None, currency: str | None) -> str:
    """An amount as a plain decimal a spreadsheet reads as a number ("1234.50")."""
    if minor is None:
        return ""
    try:
        return Money(minor, currency or "").to_ebay_value()
    except MoneyError:
        return f"{Decimal(minor).scaleb(-2):f}"


def _safe_cell(text: str | None) -> str:
    if not text:
        return ""
    return "'" + text if text.startswith(_FORMULA_START) else text


class ExportCancelled(Exception):
    """The user stopped the export; nothing was left under the chosen name."""


EXPORT_STEP = 5_000  # rows between progress reports and looks at the cancel switch


def export_history_csv(
    reads: Reads,
    path: Path,
    history_filter: HistoryFilter | None = None,
    *,
    progress: Callable[[int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> int:
    """Write every event matching ``history_filter`` to ``path`` as CSV; returns how many rows.

    Written to a temporary file beside ``path`` and renamed, so an export that fails half-way (or is
    cancelled: ``cancelled()`` true raises :class:`ExportCancelled`) never leaves a truncated file under
    the name the user chose. ``progress`` hears the running count every ``EXPORT_STEP`` rows. Safe on a
    worker thread (it reads through that thread's own connection).
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    count = 0
    try:
        # utf-8-sig: spreadsheet programs then read accented titles correctly.
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_COLUMNS)
            if cancelled is not None and cancelled():
                raise ExportCancelled
            for event in reads.iter_history(history_filter or HistoryFilter()):
                writer.writerow(
                    (
                        event.at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                        event.action,
                        event.status or "",
                        event.snipe_id if event.snipe_id is not None else "",
                        event.legacy_item_id or "",
                        _safe_cell(event.title),
                        plain_amount(event.amount_minor, event.currency),
                        plain_amount(event.final_price_minor, event.currency),
                        event.currency or "",
                        _safe_cell(event.message),
                    )
                )
                count += 1
                if count % EXPORT_STEP == 0:
                    if cancelled is not None and cancelled():
                        raise ExportCancelled
                    if progress is not None:
                        progress(count)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return count
