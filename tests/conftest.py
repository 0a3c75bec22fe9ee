"""Test-wide environment: offscreen Qt, a private keyring file and private data/config/log dirs.

Set at import time, before keyring or Qt initialise, so every test (and every subprocess a test starts
with ``os.environ``) runs isolated from the real user's files and secrets.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# The shared fixtures (sim, cli, arrival, firer, hostile) are plugins, so a test names them as parameters
# without importing them. Qt's qloop loads from tests/gui/conftest.py, keeping Qt out of the other tests.
pytest_plugins = [
    "tests.support.simulator",
    "tests.support.cli_sim",
    "tests.support.arrival_server",
    "tests.support.hostile",
]

_ROOT = Path(__file__).resolve().parent.parent
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="sniper-tests-"))

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["QT_API"] = "pyside6"
os.environ["PYTHON_KEYRING_BACKEND"] = "tests.support.keyring_backend.FileKeyring"
os.environ["SNIPER_TEST_KEYRING_FILE"] = str(_SESSION_DIR / "keyring.json")
os.environ["SNIPER_DATA_DIR"] = str(_SESSION_DIR / "data")
os.environ["SNIPER_CONFIG_DIR"] = str(_SESSION_DIR / "config")
os.environ["SNIPER_LOG_DIR"] = str(_SESSION_DIR / "logs")
# The start-at-login entry is written under XDG_CONFIG_HOME: never the developer's own.
os.environ["XDG_CONFIG_HOME"] = str(_SESSION_DIR / "xdg")
# Hypothesis keeps its example database out of the source tree.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(_SESSION_DIR / "hypothesis"))
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(_ROOT), os.environ.get("PYTHONPATH", "")) if p
)
for _name in list(os.environ):
    # A developer's own SNIPER_* settings must not leak into the tests.
    if _name.startswith("SNIPER_") and _name not in {
        "SNIPER_TEST_KEYRING_FILE",
        "SNIPER_DATA_DIR",
        "SNIPER_CONFIG_DIR",
        "SNIPER_LOG_DIR",
    }:
        del os.environ[_name]


@pytest.fixture
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point data, config, log dirs and the keyring file at this test's own temp dir."""
    for name in ("data", "config", "logs"):
        (tmp_path / name).mkdir()
    monkeypatch.setenv("SNIPER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SNIPER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("SNIPER_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("SNIPER_TEST_KEYRING_FILE", str(tmp_path / "keyring.json"))
    return tmp_path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The slow tests mostly wait (the soak idles between auction ends): started first, they run beside the
    # rest of the suite on another xdist worker instead of stretching the run at its end.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
