"""Run ``sniper-app`` as the user would: a real subprocess with the test's environment."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any


def run_cli(
    *args: str, env: Mapping[str, str] | None = None, input: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "sniper_app", *args],
        env=full_env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def poll(condition: Callable[[], Any], deadline_s: float, what: str) -> Any:
    """``condition()``'s first truthy value, asked again and again (each time a real command) until
    ``deadline_s``; fails naming ``what``."""
    end = time.monotonic() + deadline_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
