"""Make the Linux tarball from PyInstaller's one-folder build.

    pyinstaller --noconfirm build.spec && python resources/packaging/build_linux.py

Writes ``dist/sniper-app-VERSION-linux-ARCH.tar.gz`` holding the app folder, the menu entry, the icons and
``install.sh`` (a per-user install under ~/.local; ``install.sh --uninstall`` removes it again), and
``sniper-box.service``, the systemd user unit of an always-on box.
"""

from __future__ import annotations

import argparse
import platform
import re
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "resources" / "packaging"
ICONS = ROOT / "resources" / "icons"


def version() -> str:
    text = (ROOT / "sniper_app" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"', text, re.M)
    if not match:
        raise SystemExit("no __version__ in sniper_app/__init__.py")
    return match.group(1)


def build(bundle: Path, out_dir: Path) -> Path:
    if not (bundle / "sniper-app").is_file():
        raise SystemExit(f"{bundle} holds no sniper-app executable; run 'pyinstaller build.spec' first")
    arch = platform.machine() or "unknown"
    top = f"sniper-app-{version()}-linux-{arch}"
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{top}.tar.gz"

    def normalised(info: tarfile.TarInfo) -> tarfile.TarInfo:
        # Owned by nobody in particular: the archive unpacks as whoever installs it.
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    with tarfile.open(target, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname=f"{top}/sniper-app", filter=normalised)
        tar.add(PACKAGING / "linux" / "sniper-app.desktop", arcname=f"{top}/sniper-app.desktop", filter=normalised)
        tar.add(PACKAGING / "linux" / "install.sh", arcname=f"{top}/install.sh", filter=normalised)
        # For an always-on box: the headless engine as a systemd user service (see the README).
        tar.add(PACKAGING / "linux" / "sniper-box.service", arcname=f"{top}/sniper-box.service", filter=normalised)
        for icon in [*sorted(ICONS.glob("sniper*.png")), ICONS / "sniper.svg"]:
            tar.add(icon, arcname=f"{top}/icons/{icon.name}", filter=normalised)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Make the Linux tarball from dist/sniper-app.")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="PyInstaller's dist folder (default: dist)")
    parser.add_argument("--out", type=Path, default=None, help="where the tarball goes (default: the dist folder)")
    args = parser.parse_args(argv)
    target = build(args.dist / "sniper-app", args.out or args.dist)
    print(f"{target} ({target.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
