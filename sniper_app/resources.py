"""Files shipped beside the code (icons, email templates), found the same way from a source checkout and
from a PyInstaller bundle."""

from __future__ import annotations

import sys
from pathlib import Path

RESOURCES_DIR = "resources"
APP_ICON = "sniper"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)

# A checkout holds resources/ next to sniper_app/; a PyInstaller bundle has it under sys._MEIPASS, where
# the build spec copies the tree under the same name.
_SOURCE_ROOT = Path(__file__).resolve().parent.parent


def resources_root() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        return Path(bundle) / RESOURCES_DIR
    return _SOURCE_ROOT / RESOURCES_DIR


def resource_path(*parts: str) -> Path:
    """The path of a shipped file, e.g. ``resource_path("email", "won.html")``; it may not exist."""
    return resources_root().joinpath(*parts)


def app_icon_path(size: int | None = None) -> Path:
    """The application icon: the scalable SVG, or the PNG of ``size`` pixels (one of ``ICON_SIZES``)."""
    if size is None:
        return resource_path("icons", f"{APP_ICON}.svg")
    if size not in ICON_SIZES:
        raise ValueError(f"no {size}px icon; sizes are {', '.join(map(str, ICON_SIZES))}")
    return resource_path("icons", f"{APP_ICON}-{size}.png")
