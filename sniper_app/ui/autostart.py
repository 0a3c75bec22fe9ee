"""The "start at login" entry of each OS: an XDG autostart file, a per-user Run key, a LaunchAgent.

Only the current user's entry is touched (never a system-wide one), and the command recorded is the one
that launched this copy of the app, so a packaged build and a source checkout each register themselves.
"""

from __future__ import annotations

import os
import plistlib
import shlex
import sys
from pathlib import Path
from typing import Final

APP_ID: Final = "sniper-app"
_RUN_KEY: Final = r"HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run"
_AGENT_LABEL: Final = "org.sniper.sniper-app"


def launch_command() -> list[str]:
    """How to start this very copy of the app, minimised to the tray."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "--minimized"]
    return [sys.executable, "-m", "sniper_app", "--minimized"]


def entry_path(platform: str = sys.platform, home: Path | None = None) -> Path | None:
    """The file that holds the entry on Linux/BSD and macOS; None on Windows (the registry holds it)."""
    home = home or Path.home()
    if platform.startswith("win"):
        return None
    if platform == "darwin":
        return home / "Library" / "LaunchAgents" / f"{_AGENT_LABEL}.plist"
    config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    return config / "autostart" / f"{APP_ID}.desktop"


def desktop_entry(command: list[str]) -> str:
    return "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            "Name=Sniper",
            "Comment=Places your eBay snipes in the last seconds",
            f"Exec={shlex.join(command)}",
            f"Icon={APP_ID}",
            "Terminal=false",
            "X-GNOME-Autostart-enabled=true",
            "",
        ]
    )


def is_enabled(platform: str = sys.platform, home: Path | None = None) -> bool:
    path = entry_path(platform, home)
    if path is not None:
        return path.exists()
    from sniper_app.ui.qt import QtCore

    return QtCore.QSettings(_RUN_KEY, QtCore.QSettings.Format.NativeFormat).contains("Sniper")


def set_enabled(enabled: bool, platform: str = sys.platform, home: Path | None = None) -> None:
    """Add or remove this user's entry; raises OSError with the OS's reason when it cannot."""
    command = launch_command()
    path = entry_path(platform, home)
    if path is None:
        from sniper_app.ui.qt import QtCore

        run = QtCore.QSettings(_RUN_KEY, QtCore.QSettings.Format.NativeFormat)
        if enabled:
            run.setValue("Sniper", subprocess_line(command))
        else:
            run.remove("Sniper")
        run.sync()
        return
    if not enabled:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if platform == "darwin":
        data = plistlib.dumps({"Label": _AGENT_LABEL, "ProgramArguments": command, "RunAtLoad": True})
        path.write_bytes(data)
    else:
        path.write_text(desktop_entry(command), encoding="utf-8")


def subprocess_line(command: list[str]) -> str:
    """A Windows command line with each argument quoted as the Run key expects."""
    import subprocess

    return subprocess.list2cmdline(command)
