"""Money columns that grow to show their widest text, measured without asking the delegate about every row.

Qt's ``sizeHintForColumn`` asks the delegate for the size of each of up to a thousand rows, and each of
those asks the model, in Python, for a dozen roles. For the Snipes view's three money columns at a heavy
user's thousand snipes that is some 60,000 calls: a sixth of a second before the window first shows, and
again on the GUI thread after every watch-list sync. A money cell has one font and no icon, so its size
grows with its text alone: the text of each row is measured (one call a row), and the delegate is asked
only about the widest.
"""

from __future__ import annotations

from collections.abc import Iterable

from sniper_app.ui.qt import QtWidgets


def widest_row(view: QtWidgets.QTableView, column: int, rows: Iterable[int]) -> int | None:
    """The row among ``rows`` whose text in ``column`` is widest in the view's font (None: all empty)."""
    model = view.model()
    metrics = view.fontMetrics()
    best, best_row = -1, None
    for row in rows:
        text = model.data(model.index(row, column))
        if text:
            width = metrics.horizontalAdvance(str(text))
            if width > best:
                best, best_row = width, row
    return best_row


def column_hint(view: QtWidgets.QTableView, column: int, rows: Iterable[int]) -> int:
    """What ``sizeHintForColumn`` gives for ``column`` over ``rows`` (0 when all are empty), with the delegate
    asked only about the widest text."""
    row = widest_row(view, column, rows)
    if row is None:
        return 0
    model = view.model()
    return view.sizeHintForIndex(model.index(row, column)).width() + (1 if view.showGrid() else 0)


def grow_to_fit(view: QtWidgets.QTableView, column: int, first: int = 0, last: int | None = None) -> None:
    """Widen ``column`` to show whole the texts of rows ``first``..``last`` (every row by default) and its
    header; never narrow it (a wider column the user chose stays)."""
    model = view.model()
    header = view.horizontalHeader()
    end = model.rowCount() - 1 if last is None else min(last, model.rowCount() - 1)
    wanted = header.sectionSizeHint(column)
    wanted = max(wanted, column_hint(view, column, range(max(first, 0), end + 1)))
    if header.sectionSize(column) < wanted:
        header.resizeSection(column, wanted)
