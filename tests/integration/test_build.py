"""The packaged Linux build: PyInstaller's one-folder app from build.spec, then the tarball made from it.

Slow (about a minute of PyInstaller on two cores, plus the frozen selftest); CI runs it with the suite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SIZE_BUDGET_BYTES = 150_000_000  # 150 MB in decimal units, the stricter reading of the budget

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("build"),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux bundle is built on Linux"),
    pytest.mark.skipif(
        shutil.which("pyinstaller") is None and not (Path(sys.executable).parent / "pyinstaller").exists(),
        reason="PyInstaller is not installed (pip install -e '.[build]')",
    ),
]


def _frozen_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    # The bundle must find its own modules and keyring backends, not the test suite's.
    for name in ("PYTHONPATH", "PYTHON_KEYRING_BACKEND"):
        env.pop(name, None)
    env |= {"SNIPER_DATA_DIR": str(tmp / "data"), "SNIPER_CONFIG_DIR": str(tmp / "config"),
            "SNIPER_LOG_DIR": str(tmp / "logs")}
    return env


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


@pytest.mark.timeout(900)
def test_linux_bundle_builds_runs_its_selftest_and_packs(tmp_path: Path) -> None:
    dist, work = tmp_path / "dist", tmp_path / "work"
    pyinstaller = Path(sys.executable).parent / "pyinstaller"
    build = subprocess.run(
        [str(pyinstaller) if pyinstaller.exists() else "pyinstaller", "--noconfirm", "--log-level", "WARN",
         "--distpath", str(dist), "--workpath", str(work), str(ROOT / "build.spec")],
        cwd=ROOT, capture_output=True, text=True, timeout=800, check=False,
    )
    assert build.returncode == 0, build.stderr[-4000:]
    bundle = dist / "sniper-app"
    exe = bundle / "sniper-app"
    env = _frozen_env(tmp_path)

    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, env=env, timeout=60, check=False)
    from sniper_app import __version__

    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"sniper-app {__version__}"

    selftest = subprocess.run([str(exe), "--selftest"], capture_output=True, text=True, env=env, timeout=120,
                              check=False)
    assert selftest.returncode == 0, selftest.stdout + selftest.stderr
    assert selftest.stdout.splitlines()[-1].startswith("selftest passed in ")
    # keyring's backends are found through entry points, which exist only if the build kept its metadata.
    assert "SecretService" in selftest.stdout

    size = _size(bundle)
    assert size <= SIZE_BUDGET_BYTES, f"the bundle is {size / 1e6:.1f} MB, over the 150 MB budget"
    # Only the Qt the app uses: no QML, Quick, PDF or virtual keyboard, no other binding.
    names = {p.name for p in bundle.rglob("*")}
    for unwanted in ("libQt6Qml.so.6", "libQt6Quick.so.6", "libQt6Pdf.so.6", "libQt6VirtualKeyboard.so.6"):
        assert unwanted not in names
    assert not any(n.startswith(("PyQt5", "PyQt6", "PySide2", "tkinter", "_tkinter")) for n in names)
    # Every Qt library a kept plugin needs is in the bundle (xcb and wayland cannot be started here).
    plugins = bundle / "_internal" / "PySide6" / "Qt" / "plugins"
    for plugin in ("platforms/libqxcb.so", "platforms/libqwayland.so", "platforms/libqoffscreen.so",
                   "imageformats/libqsvg.so", "iconengines/libqsvgicon.so"):
        assert (plugins / plugin).is_file(), plugin
    if shutil.which("ldd"):
        missing = []
        for lib in plugins.rglob("*.so"):
            out = subprocess.run(["ldd", str(lib)], capture_output=True, text=True, check=False).stdout
            missing += [f"{lib.name}: {line.strip()}" for line in out.splitlines()
                        if "not found" in line and "Qt6" in line]
        assert missing == []

    pack = subprocess.run(
        [sys.executable, str(ROOT / "resources" / "packaging" / "build_linux.py"), "--dist", str(dist)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert pack.returncode == 0, pack.stderr
    tarballs = list(dist.glob(f"sniper-app-{__version__}-linux-*.tar.gz"))
    assert len(tarballs) == 1
    with tarfile.open(tarballs[0]) as tar:
        members = {m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name}
        desktop = tar.extractfile(next(m for m in tar.getmembers() if m.name.endswith("/sniper-app.desktop")))
        assert desktop is not None
        entry = desktop.read().decode()
    assert {"sniper-app.desktop", "install.sh", "sniper-box.service", "icons/sniper-256.png", "icons/sniper.svg",
            "sniper-app/sniper-app"} <= members
    assert "Icon=sniper-app" in entry
    assert "Exec=sniper-app" in entry
