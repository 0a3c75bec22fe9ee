from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path


def test_uncaught_exception_leaves_a_redacted_crash_report(isolated_dirs: Path) -> None:
    script = textwrap.dedent(
        """
        import os
        os.umask(0o022)  # the usual default: files the app does not guard come out 0644
        from sniper_app.logging_setup import install_crash_handler, setup_logging
        setup_logging("INFO")
        install_crash_handler()
        token = "v^1.1#i^1#r^0#p^3#I^3#f^0#t^H4sIAAAAAAAAAOVYa2wUVRTe"
        raise RuntimeError(f"token refresh failed: Authorization: Bearer {token}")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1
    crashes = list((isolated_dirs / "logs").glob("crash-*.txt"))
    assert len(crashes) == 1
    report = crashes[0].read_text()
    assert "RuntimeError: token refresh failed" in report
    assert "H4sIAAAA" not in report
    assert "H4sIAAAA" not in result.stderr
    assert "H4sIAAAA" not in (isolated_dirs / "logs" / "sniper.log").read_text()
    assert oct(crashes[0].stat().st_mode & 0o777) == "0o600"
    for log_file in ("sniper.log", "faulthandler.log"):
        assert oct((isolated_dirs / "logs" / log_file).stat().st_mode & 0o777) == "0o600", log_file
