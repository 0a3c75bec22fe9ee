"""The remote engine end to end with real processes: a box running ``--headless --listen`` against the
simulator, and a desktop command line with its own data folder and secret store, paired by an invite over
real HTTPS on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sniper_app.remote.client import Connected, RemoteClient, pair
from sniper_app.remote.invite import Invite, format_invite, parse_invite
from tests.support.cli import free_port, run_cli, wait_line
from tests.support.cli_sim import CliSim
from tests.support.wait import wait_until

FINAL = ("WON", "LOST", "FAILED", "MISSED", "SKIPPED")


@dataclass
class Rig:
    cli: CliSim  # the box's own command line (its data folder, the simulator's settings)
    box_env: dict[str, str]
    desk_env: dict[str, str]
    port: int
    proc: subprocess.Popen[str] | None = None

    def start_box(self) -> list[str]:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sniper_app", "--headless", "--listen", f"127.0.0.1:{self.port}"],
            env=dict(os.environ) | self.box_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        return wait_line(self.proc, "Sniper engine running")

    def stop_box(self, sig: signal.Signals = signal.SIGTERM) -> tuple[int, str]:
        assert self.proc is not None
        self.proc.send_signal(sig)
        _out, err = self.proc.communicate(timeout=30)
        code, self.proc = self.proc.returncode, None
        return code, err

    def invite(self) -> str:
        made = self.cli.run("remote", "invite")
        assert made.returncode == 0, made.stderr
        return made.stdout.strip().splitlines()[-1]

    def desk(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, env=self.desk_env)

    def desk_json(self, *args: str) -> Any:
        result = self.desk(*args, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


@pytest.fixture
def rig(cli: CliSim, tmp_path: Path) -> Iterator[Rig]:
    desk = tmp_path / "desk"
    for name in ("data", "config", "logs"):
        (desk / name).mkdir(parents=True)
    desk_env = {
        "SNIPER_DATA_DIR": str(desk / "data"), "SNIPER_CONFIG_DIR": str(desk / "config"),
        "SNIPER_LOG_DIR": str(desk / "logs"), "SNIPER_TEST_KEYRING_FILE": str(desk / "keyring.json"),
    }
    box_env = cli.env | {"SNIPER_MIN_SECONDS_BEFORE_END": "10"}
    cli.env = box_env
    made = Rig(cli, box_env, desk_env, free_port())
    try:
        yield made
    finally:
        if made.proc is not None:
            made.stop_box(signal.SIGKILL)


def _bids(cli: CliSim) -> list[dict[str, Any]]:
    return [r for r in cli.sim.requests() if r["method"] == "POST" and r["path"].endswith("place_proxy_bid")]


def test_a_snipe_added_on_the_desktop_is_bid_once_by_the_box_and_the_desktop_sees_it_won(rig: Rig) -> None:
    banner = "".join(rig.start_box())
    assert f"https://127.0.0.1:{rig.port}" in banner
    rig.cli.link()
    connected = rig.desk("remote", "connect", rig.invite())
    assert connected.returncode == 0, connected.stderr
    assert f"127.0.0.1:{rig.port}" in connected.stdout

    status = rig.desk_json("remote", "status")
    assert status["connected"] is True
    assert status["box"]["engine_running"] is True
    assert status["box"]["account"] == "demo"
    assert status["latency_ms"] >= 0

    item = rig.cli.auction(start_price="10.00", ends_in=20, rivals=[{"max": "15.00", "before_end": 8.0}])
    added = rig.desk_json("snipe", "add", item, "20", "--lead", "2")
    snipe_id = added["snipe"]["id"]
    # It lives on the box: the box's own command line lists it, and the desktop's data folder has none.
    assert [s["id"] for s in rig.cli.ok_json("snipe", "list")] == [snipe_id]

    def finished() -> dict[str, Any] | None:
        found = [s for s in rig.desk_json("snipe", "list") if s["id"] == snipe_id]
        return found[0] if found and found[0]["status"] in FINAL else None

    done = wait_until(finished, 40.0, "the box to finish the snipe")
    assert done["status"] == "WON", done
    assert len(_bids(rig.cli)) == 1
    auction = rig.cli.sim.auction(item)
    assert auction["winner"] == "demo"
    assert [(b["max"], b["accepted"]) for b in auction["bids"] if b["bidder"] == "demo"] == [("20.00", True)]

    # A connected desktop starts no engine of its own.
    refused = rig.desk("--headless")
    assert refused.returncode == 1
    assert f"connected to the Sniper box at 127.0.0.1:{rig.port}" in refused.stdout
    assert not (Path(rig.desk_env["SNIPER_DATA_DIR"]) / "engine.lock").exists()

    # Input errors keep their class and exit code across the wire.
    bad = rig.desk("snipe", "cancel", "999", "--json")
    assert bad.returncode == 2
    assert json.loads(bad.stderr)["error"] == "There is no snipe #999."

    disconnected = rig.desk("remote", "disconnect")
    assert disconnected.returncode == 0, disconnected.stderr
    assert rig.desk_json("snipe", "list") == []  # the desktop's own, empty data again
    code, err = rig.stop_box()
    assert code == 0, err


def test_a_killed_and_restarted_box_is_reached_again_by_the_next_command(rig: Rig) -> None:
    rig.start_box()
    assert rig.desk("remote", "connect", rig.invite()).returncode == 0
    assert rig.desk_json("snipe", "list") == []
    rig.stop_box(signal.SIGKILL)

    down = rig.desk("snipe", "list")
    assert down.returncode == 1
    assert "cannot be reached" in down.stderr
    assert "Traceback" not in down.stderr

    rig.start_box()
    assert rig.desk_json("snipe", "list") == []
    assert rig.desk_json("remote", "status")["box"]["engine_running"] is True

    # A pairing gone from the desktop's secret store is said, and disconnecting still frees the desktop.
    Path(rig.desk_env["SNIPER_TEST_KEYRING_FILE"]).unlink()
    lost = rig.desk("snipe", "list")
    assert lost.returncode == 1
    assert "pairing is missing from the secret store" in lost.stderr
    assert rig.desk("remote", "disconnect").returncode == 0


def test_a_box_that_cannot_read_its_ebay_sign_in_says_so_at_start_and_in_remote_status(rig: Rig) -> None:
    # The box's account is linked, but its secret store cannot be opened (as when its key was not given).
    rig.cli.link()
    rig.box_env = rig.box_env | {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    rig.start_box()
    assert rig.proc is not None
    said = wait_line(rig.proc, "Warning")[-1]
    assert "no bid can be placed until the eBay sign-in can be read" in said
    assert rig.desk("remote", "connect", rig.invite()).returncode == 0

    status = rig.desk("remote", "status")
    assert status.returncode == 0, status.stderr
    assert "linked to eBay user" in status.stdout
    assert "unable to bid" in status.stdout
    assert "bidding as" not in status.stdout
    assert rig.desk_json("remote", "status")["box"]["sign_in_problem"]


def test_a_tampered_invite_a_wrong_fingerprint_and_a_wrong_token_are_each_refused(rig: Rig) -> None:
    rig.start_box()
    invite = rig.invite()
    head, _, check = invite.rpartition(".")
    middle = len(head) // 2
    tampered = head[:middle] + ("A" if head[middle] != "A" else "B") + head[middle + 1 :] + "." + check
    refused = rig.desk("remote", "connect", tampered)
    assert refused.returncode == 2
    assert "damaged or incomplete" in refused.stderr

    parsed = parse_invite(invite)
    wrong_pin = format_invite(Invite(parsed.address, "0" * 64, parsed.secret))
    refused = rig.desk("remote", "connect", wrong_pin, "--json")
    assert refused.returncode == 1
    assert "certificate" in json.loads(refused.stderr)["error"]
    assert not (Path(rig.desk_env["SNIPER_TEST_KEYRING_FILE"]).exists()
                and "sniper-app/remote" in Path(rig.desk_env["SNIPER_TEST_KEYRING_FILE"]).read_text())

    # The secret was never sent to the wrong pin, so the real invite still pairs.
    assert rig.desk("remote", "connect", invite).returncode == 0
    spent = rig.desk("remote", "connect", invite)
    assert spent.returncode == 2
    assert "already used" in spent.stderr

    # The box ends every pairing: the desktop's token is now a wrong one.
    assert rig.cli.run("remote", "invite", "--revoke").returncode == 0
    unpaired = rig.desk("snipe", "list")
    assert unpaired.returncode == 1
    assert "not paired with the box" in unpaired.stderr
    assert "Traceback" not in unpaired.stderr


def test_the_box_engine_s_events_reach_a_paired_desktop_over_the_websocket(rig: Rig) -> None:
    rig.start_box()
    rig.cli.link()
    item = rig.cli.auction(start_price="10.00", ends_in=3600)

    async def watch() -> list[dict[str, Any]]:
        paired = await pair(rig.invite(), "events test")
        client = RemoteClient(paired.address, paired.fingerprint, paired.token)
        seen: list[dict[str, Any]] = []
        stream = client.events()
        try:
            async with asyncio.timeout(30):
                async for message in stream:
                    if isinstance(message, Connected):
                        # Live: now a command on the box makes the engine publish.
                        added = await asyncio.to_thread(rig.cli.ok_json, "snipe", "add", item, "20")
                        seen.append({"added": added["snipe"]["id"]})
                    elif isinstance(message, dict):
                        seen.append(message)
                        if message.get("type") == "SnipeStatusChanged" and message.get("new") == "SCHEDULED":
                            return seen
        finally:
            await stream.aclose()
            await client.aclose()
        return seen

    seen = asyncio.run(watch())
    snipe_id = seen[0]["added"]
    scheduled = seen[-1]
    assert scheduled["snipe_id"] == snipe_id
    assert scheduled["type"] == "SnipeStatusChanged"
    assert scheduled["at"].endswith("Z") or scheduled["at"].endswith("+00:00")


def test_exposure_stats_and_snipe_show_on_a_connected_desktop_answer_with_the_box_s_data(rig: Rig) -> None:
    rig.start_box()
    rig.cli.link()
    assert rig.desk("remote", "connect", rig.invite()).returncode == 0
    # The cap steers the box's engine: set from the desktop, it is validated and saved on the box.
    capped = rig.desk_json("config", "set", "spending_cap", "100 USD")
    assert capped == {"spending_cap": "100.00 USD", "box": f"127.0.0.1:{rig.port}"}
    assert rig.cli.ok_json("config", "show")["spending_cap"] == "100.00 USD"
    assert rig.desk("config", "show", "--json").returncode == 0
    bad = rig.desk("config", "set", "spending_cap", "a lot", "--json")
    assert bad.returncode == 2
    assert "spending_cap" in json.loads(bad.stderr)["error"]
    wait_until(lambda: [r["cap"] for r in rig.desk_json("exposure")["currencies"]] == ["100.00"], 20.0,
               "the box's engine to apply its new cap", interval_s=0.5)
    won_item = rig.cli.auction(start_price="10.00", ends_in=15, rivals=[{"max": "12.00", "before_end": 8.0}])
    won_id = rig.desk_json("snipe", "add", won_item, "20", "--lead", "2")["snipe"]["id"]
    pending_item = rig.cli.auction(start_price="15.00", ends_in=3600)
    rig.desk_json("snipe", "add", pending_item, "30", "--lead", "3")

    def ended() -> dict[str, Any] | None:
        shown = rig.desk_json("snipe", "show", str(won_id))
        return shown if shown["status"] in FINAL else None

    shown = wait_until(ended, 40.0, "the box to finish the snipe")
    assert shown["status"] == "WON", shown
    assert shown["outcome"]["code"] == "won"
    assert shown["timing"], shown  # the box's fire record, in words
    assert shown["history"][0]["action"] == "CREATE"
    assert shown["history"][-1]["status"] == "WON"

    exposure = rig.desk_json("exposure")
    [usd] = exposure["currencies"]
    assert usd["cap"] == "100.00"  # counted under the box's cap
    assert usd["exposure"] == "30.00"
    assert usd["won"] == shown["final_price"]
    assert usd["room"] is not None

    stats = rig.desk_json("stats")
    assert stats["total"] == 1
    assert stats["outcomes"] == [{"code": "won", "count": 1}]
    assert stats == rig.cli.ok_json("stats")  # the box's own command line reads the same record

    missing = rig.desk("snipe", "show", "999", "--json")
    assert missing.returncode == 2
    assert json.loads(missing.stderr)["error"] == "There is no snipe #999."

    # 'config show' gives the engine's settings from the box and the rest from this computer, and says so.
    settings = rig.desk("config", "show", "--json")
    assert settings.returncode == 0, settings.stderr
    shown_settings = json.loads(settings.stdout)
    assert shown_settings["spending_cap"] == "100.00 USD"
    assert shown_settings["data_dir"] == rig.desk_env["SNIPER_DATA_DIR"]
    note = json.loads(settings.stderr)
    assert note["box"] == f"127.0.0.1:{rig.port}"
    assert "spending_cap" in note["box_settings"]
    assert "data_dir" not in note["box_settings"]
    text = rig.desk("config", "show").stdout
    assert text.index(f"on the box at 127.0.0.1:{rig.port}") < text.index("spending_cap = 100.00 USD")
    assert text.index("This computer's settings") < text.index("data_dir = ")
    # A setting of this computer alone stays here, and the command says so.
    local = rig.desk("config", "set", "start_minimized", "true", "--json")
    assert local.returncode == 0, local.stderr
    assert json.loads(local.stdout) == {"start_minimized": True}
    assert json.loads(local.stderr.splitlines()[-1])["machine"] == "this computer"
    assert rig.cli.ok_json("config", "show")["start_minimized"] is False

    assert rig.desk("remote", "disconnect").returncode == 0
    assert rig.desk("config", "show").stderr == ""
    assert rig.desk_json("config", "show")["spending_cap"] == ""
    assert rig.desk_json("stats")["total"] == 0  # the desktop's own record is empty
    assert rig.desk_json("exposure")["currencies"] == []
