"""The command line against the simulator: settings through SNIPER_* variables, as a headless box has them."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from sniper_app.simulator import SimulatorServer
from tests.support.cli import run_cli


def sim_env(server: SimulatorServer) -> dict[str, str]:
    host, port = server.sntp_address
    return {
        "SNIPER_EBAY_ENV": "simulator",
        "SNIPER_EBAY_API_URL": server.base_url,
        "SNIPER_EBAY_AUTH_URL": server.base_url,
        "SNIPER_EBAY_TRADING_URL": server.trading_url,
        "SNIPER_EBAY_CLIENT_ID": "sim-client",
        "SNIPER_EBAY_RUNAME": "sim-runame",
        "SNIPER_EBAY_CLIENT_SECRET": "sim-secret",
        "SNIPER_TIME_SERVER": f"{host}:{port}",
    }


@dataclass
class CliSim:
    sim: SimulatorServer
    env: dict[str, str]
    dirs: Path

    def run(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, env=self.env, input=input)

    def ok_json(self, *args: str) -> Any:
        result = self.run(*args, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def consent_redirect(self, url: str) -> str:
        """Where the browser lands after the (auto-approving) consent page."""
        reply = httpx.get(url, follow_redirects=False, timeout=10)
        assert reply.status_code == 302, reply.text
        return reply.headers["location"]

    def link(self, user: str = "demo") -> None:
        url = self.ok_json("account", "link", "--print-url")["consent_url"]
        if user != "demo":
            url += f"&sim_user={user}"
        done = self.run("account", "link", "--redirect-url", self.consent_redirect(url))
        assert done.returncode == 0, done.stderr

    def auction(self, **kw: Any) -> str:
        kw.setdefault("ends_in", 3600.0)
        return str(self.sim.create_auction(**kw)["legacy_item_id"])


@pytest.fixture
def cli(sim: SimulatorServer, isolated_dirs: Path) -> CliSim:
    """The simulator plus the SNIPER_* environment a CLI subprocess needs to use it (the test imports ``sim``)."""
    return CliSim(sim, sim_env(sim), isolated_dirs)
