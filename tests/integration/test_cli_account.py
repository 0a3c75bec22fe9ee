"""`sniper-app account …` as a subprocess against the simulator: link in two halves, status, unlink."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlparse

from tests.support.cli_sim import CliSim


def _keyring(cli: CliSim) -> dict[str, dict[str, str]]:
    path = cli.dirs / "keyring.json"
    return json.loads(path.read_text()) if path.exists() else {}


def test_link_in_two_halves_stores_tokens_in_the_keyring_only(cli: CliSim) -> None:
    first = cli.run("account", "link", "--print-url")
    assert first.returncode == 0, first.stderr
    url = first.stdout.strip()
    assert url.startswith(cli.sim.base_url + "/oauth2/authorize?")
    pending = cli.dirs / "data" / "pending-link.json"
    assert oct(pending.stat().st_mode & 0o777) == "0o600"
    assert set(json.loads(pending.read_text())) == {"state", "expires_at", "environment"}

    done = cli.run("account", "link", "--redirect-url", cli.consent_redirect(url), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"linked": True, "username": "demo", "environment": "simulator"}
    assert not pending.exists()

    status = cli.ok_json("account", "status")
    assert status["linked"] is True
    assert status["username"] == "demo"
    assert status["needs_relink"] is False
    assert status["environment"] == "simulator"
    assert datetime.fromisoformat(status["access_token_expires_at"]) > datetime.now(UTC) + timedelta(minutes=30)
    assert datetime.fromisoformat(status["refresh_token_expires_at"]) > datetime.now(UTC) + timedelta(days=30)

    entries = _keyring(cli)["sniper-app/simulator"]
    assert set(entries) == {"demo/access", "demo/refresh"}
    token = json.loads(entries["demo/access"])["token"]
    db = (cli.dirs / "data" / "sniper.db").read_bytes() + b"".join(
        p.read_bytes() for p in (cli.dirs / "data").glob("sniper.db-*")
    )
    assert token.encode() not in db
    assert token not in done.stdout + done.stderr + status.__repr__()


def test_text_status_says_who_is_linked(cli: CliSim) -> None:
    before = cli.run("account", "status")
    assert before.returncode == 0
    assert "No eBay account is linked" in before.stdout
    cli.link()
    after = cli.run("account", "status")
    assert "eBay account: demo (simulator)" in after.stdout


def test_redirect_from_an_older_attempt_is_refused_with_exit_2(cli: CliSim) -> None:
    old_url = cli.ok_json("account", "link", "--print-url")["consent_url"]
    cli.ok_json("account", "link", "--print-url")  # a newer attempt replaces the state
    result = cli.run("account", "link", "--redirect-url", cli.consent_redirect(old_url))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "different link attempt" in lines[0]
    assert cli.ok_json("account", "status")["linked"] is False
    assert "sniper-app/simulator" not in _keyring(cli)


def test_tampered_state_is_refused_as_json_when_asked(cli: CliSim) -> None:
    url = cli.ok_json("account", "link", "--print-url")["consent_url"]
    landed = urlparse(cli.consent_redirect(url))
    query = {k: v[0] for k, v in parse_qs(landed.query).items()} | {"state": "forged"}
    result = cli.run("account", "link", "--redirect-url", landed._replace(query=urlencode(query)).geturl(), "--json")
    assert result.returncode == 2
    assert "different link attempt" in json.loads(result.stderr)["error"]


def test_second_half_without_a_first_half_says_how_to_start(cli: CliSim) -> None:
    result = cli.run("account", "link", "--redirect-url", "https://example.com/accept?code=x&state=y")
    assert result.returncode == 2
    assert "No account link is in progress" in result.stderr


def test_expired_pending_link_is_refused(cli: CliSim) -> None:
    url = cli.ok_json("account", "link", "--print-url")["consent_url"]
    pending = cli.dirs / "data" / "pending-link.json"
    data = json.loads(pending.read_text()) | {"expires_at": (datetime.now(UTC) - timedelta(seconds=1)).isoformat()}
    pending.write_text(json.dumps(data))
    result = cli.run("account", "link", "--redirect-url", cli.consent_redirect(url))
    assert result.returncode == 2
    assert "expired" in result.stderr


def test_interactive_link_reads_the_pasted_address_from_stdin(cli: CliSim) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sniper_app", "account", "link"],
        env=dict(os.environ) | cli.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdin is not None
    url = proc.stdout.readline().strip()
    assert url.startswith(cli.sim.base_url + "/oauth2/authorize?")
    out, err = proc.communicate(cli.consent_redirect(url) + "\n", timeout=30)
    assert proc.returncode == 0, err
    assert "eBay account demo linked." in out
    assert cli.ok_json("account", "status")["username"] == "demo"


def test_unlink_deletes_the_tokens_and_keeps_active_snipes_with_a_warning(cli: CliSim) -> None:
    cli.link()
    item = cli.auction(start_price="10.00")
    assert cli.run("snipe", "add", item, "20").returncode == 0
    result = cli.ok_json("account", "unlink")
    assert result["unlinked"] == "demo"
    assert result["active_snipes"] == 1
    assert "1 active snipe is kept" in result["warnings"][0]
    assert _keyring(cli).get("sniper-app/simulator", {}) == {}
    assert cli.ok_json("account", "status")["linked"] is False
    assert [s["status"] for s in cli.ok_json("snipe", "list")] == ["PENDING"]
    history = cli.ok_json("history")
    assert any(e["action"] == "ACCOUNT" and "unlinked" in e["message"] for e in history)
