"""A real Sniper box for tests: ``sniper-app --headless --listen`` in its own process on the simulator, and
what a desktop needs to drive it (an invite, a pairing)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from sniper_app.remote.client import pair
from sniper_app.remote.credentials import RemoteLink
from tests.support.cli import free_port, wait_line
from tests.support.cli_sim import CliSim


@dataclass
class Box:
    cli: CliSim  # the box's own command line (its data folder, the simulator's settings)
    port: int
    proc: subprocess.Popen[str] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sniper_app", "--headless", "--listen", self.address],
            env=dict(os.environ) | self.cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        wait_line(self.proc, "Sniper engine running")

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        self.proc.communicate(timeout=30)
        self.proc = None

    def invite(self) -> str:
        made = self.cli.run("remote", "invite")
        assert made.returncode == 0, made.stderr
        return made.stdout.strip().splitlines()[-1]

    async def pair(self, name: str = "test desktop") -> RemoteLink:
        paired = await pair(self.invite(), name)
        return RemoteLink(paired.address, paired.fingerprint, paired.token)


@pytest.fixture
def box(cli: CliSim) -> Iterator[Box]:
    """A box on the simulator with its eBay account linked, not started yet (``box.start()``)."""
    cli.env = cli.env | {"SNIPER_MIN_SECONDS_BEFORE_END": "10"}
    made = Box(cli, free_port())
    try:
        yield made
    finally:
        if made.proc is not None:
            made.stop(signal.SIGKILL)
