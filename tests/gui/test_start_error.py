"""A window that cannot start says why in a box (and on stderr), rather than never appearing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sniper_app import app as app_module
from sniper_app.config import Settings
from sniper_app.store.errors import DatabaseDamaged
from sniper_app.ui import start_error
from sniper_app.ui.qt import QtCore, QtWidgets


def _damaged(data: Path) -> Path:
    data.mkdir(parents=True, exist_ok=True)
    db = data / "sniper.db"
    db.write_bytes(os.urandom(200_000))
    return db


def _read_box_then_close(seen: list[tuple[str, str, QtWidgets.QMessageBox.Icon]]) -> None:
    box = QtWidgets.QApplication.activeModalWidget()
    assert isinstance(box, QtWidgets.QMessageBox)
    seen.append((box.windowTitle(), box.text(), box.icon()))
    box.done(0)


def test_the_box_shows_the_sentence_as_critical(qapp: QtWidgets.QApplication) -> None:
    seen: list[tuple[str, str, QtWidgets.QMessageBox.Icon]] = []
    QtCore.QTimer.singleShot(0, lambda: _read_box_then_close(seen))
    start_error.show_start_error("The data folder /x is read-only, so nothing can be changed; make it writable.")
    assert seen == [(start_error.TITLE, "The data folder /x is read-only, so nothing can be changed; make it writable.",
                     QtWidgets.QMessageBox.Icon.Critical)]


def test_a_damaged_database_stops_the_window_with_the_sentence_in_a_box(
    qapp: QtWidgets.QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _damaged(tmp_path / "data")
    before = db.read_bytes()
    seen: list[tuple[str, str, QtWidgets.QMessageBox.Icon]] = []

    def shown_on_a_desktop(_app: QtWidgets.QApplication, text: str) -> None:
        QtCore.QTimer.singleShot(0, lambda: _read_box_then_close(seen))
        start_error.show_start_error(text)

    monkeypatch.setattr(app_module, "start_process", lambda *a, **k: None)  # no crash hook or log file here
    monkeypatch.setattr(start_error, "tell_start_error", shown_on_a_desktop)
    with pytest.raises(DatabaseDamaged) as raised:
        app_module.run_window(Settings(data_dir=tmp_path / "data"), lambda _text: None)
    assert len(seen) == 1
    title, text, icon = seen[0]
    assert (title, icon) == (start_error.TITLE, QtWidgets.QMessageBox.Icon.Critical)
    assert text == str(raised.value)
    assert str(db) in text  # the path
    assert "move sniper.db aside" in text  # and what to do
    assert db.read_bytes() == before


def test_the_window_process_still_says_it_on_stderr_and_exits_1(tmp_path: Path) -> None:
    db = _damaged(tmp_path / "data")
    env = dict(os.environ) | {"SNIPER_DATA_DIR": str(db.parent), "SNIPER_CONFIG_DIR": str(tmp_path / "config"),
                              "SNIPER_LOG_DIR": str(tmp_path / "logs"), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-m", "sniper_app"], env=env, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 1
    assert f"The database {db} is damaged" in done.stderr
    assert "Traceback" not in done.stderr
