"""A machine with no OS keyring: the README's demo still links, and a real account's sign-in lives in the
encrypted secrets file, with each bad case one sentence, a non-zero exit and the file left as it was."""

from __future__ import annotations

import json
import os
import shlex
import signal
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sniper_app.ebay.secretfile import SECRETS_FILE
from tests.support.cli_sim import CliSim

NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def _bare_env(home: Path) -> dict[str, str]:
    """A new user's shell on a server: fresh home, no display, no D-Bus, no keyring chosen, no SNIPER_*."""
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith("SNIPER_")
        and k not in {"DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND",
                      "QT_QPA_PLATFORM"}
    }
    env |= {"HOME": str(home)} | {f"XDG_{n}_HOME": str(home / n.lower()) for n in ("CONFIG", "DATA", "STATE", "CACHE")}
    return env


def _sniper(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sniper_app", *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def _no_secret_in_clear(root: Path, *secrets: str) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in data, f"{secret[:8]}… in clear in {path}"


def _printed(banner: list[str], needle: str) -> list[str]:
    """The command the demo printed for ``needle``, as a new user would copy it (comment left out)."""
    line = next(line for line in banner if needle in line)
    return shlex.split(line.split("#", 1)[0])


def test_readme_demo_links_and_syncs_on_a_bare_machine(tmp_path: Path) -> None:
    env = _bare_env(tmp_path / "home")
    # The README's command starts .venv/bin/sniper-app from a venv nobody activated: that folder is not on
    # the PATH of the other terminal the demo sends the user to.
    script = Path(sys.executable).parent / "sniper-app"
    assert script.exists(), "the test venv has the console script installed"
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if Path(p) != script.parent)
    proc = subprocess.Popen(
        [str(script), "--demo"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        seen = []
        while not any("Press Ctrl+C to stop." in line for line in seen):
            line = proc.stdout.readline()
            assert line, f"the demo ended early: {seen} {proc.stderr.read() if proc.stderr else ''}"
            seen.append(line)
        assert "No display was found" in "".join(seen)

        def follow(needle: str, *extra: str) -> subprocess.CompletedProcess[str]:
            done = subprocess.run(
                [*_printed(seen, needle), *extra], env=env, capture_output=True, text=True, timeout=60,
                check=False, stdin=subprocess.DEVNULL,  # no browser and nothing pasted: the demo links alone
            )
            assert done.returncode == 0, (needle, done.stderr)
            assert "Traceback" not in done.stderr
            return done

        linked = follow("account link")
        assert "eBay account demo linked." in linked.stdout
        assert "paste" not in linked.stderr
        follow("watchlist sync")
        listed = json.loads(follow("watchlist list", "--json").stdout)
        assert len(listed) == 20  # 18 auctions (US, GB, DE), 2 fixed-price
        soon = datetime.now(UTC) + timedelta(minutes=3)
        auction = next(
            i for i in listed
            if i["snipeable"] and i["currency"] == "USD" and datetime.fromisoformat(i["end_time"]) > soon
        )
        cmd = _printed(seen, "snipe add ITEM MAX")
        added = subprocess.run(
            # Twice the price: a maximum a buyer would type (five times it asks for --confirm).
            [c for c in cmd if c not in {"ITEM", "MAX"}] + [auction["item"], _twice(auction), "--json"],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )
        assert added.returncode == 0, added.stderr
        snipes = json.loads(follow("snipe list", "--json").stdout)
        assert [s["item"] for s in snipes] == [auction["item"]]
        status = _sniper(["--demo", "secrets", "status", "--json"], env)
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["store"] == "demo"
        kept = Path(json.loads(status.stdout)["file"])
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        assert "demo/refresh" in kept.read_text()
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_no_keyring_and_no_key_names_both_ways_out(cli: CliSim) -> None:
    cli.env |= NO_KEYRING
    url = cli.ok_json("account", "link", "--print-url")["consent_url"]
    landed = cli.consent_redirect(url)
    result = cli.run("account", "link", "--redirect-url", landed)
    assert result.returncode == 1
    assert "sniper-app secrets init" in result.stderr
    assert "GNOME Keyring" in result.stderr
    assert "keyrings.alt" not in result.stderr
    assert "Traceback" not in result.stderr
    status = cli.run("secrets", "status")
    assert status.returncode == 1
    assert "sniper-app secrets init" in status.stderr
    # Following the sentence, the address already pasted still links: nothing the user did is lost.
    cli.env |= {"SNIPER_SECRETS_KEY": cli.ok_json("secrets", "init")["key"]}
    again = cli.run("account", "link", "--redirect-url", landed)
    assert again.returncode == 0, again.stderr
    assert cli.ok_json("secrets", "status")["store"] == "file"


def test_sign_in_lives_in_the_encrypted_file_and_survives_bad_cases(cli: CliSim) -> None:
    cli.env |= NO_KEYRING
    made = cli.ok_json("secrets", "init")
    key = made["key"]
    assert made["env_line"] == f"SNIPER_SECRETS_KEY={key}"
    assert made["systemd_line"].startswith("LoadCredential=sniper-secrets-key:")
    assert len(key) >= 40
    cli.env |= {"SNIPER_SECRETS_KEY": key}
    cli.auction(title="Watched", start_price="10.00", watched_by=["demo"])
    cli.link()
    assert cli.ok_json("watchlist", "sync")["count"] == 1
    status = cli.ok_json("secrets", "status")
    assert status["store"] == "file"
    assert status["key_source"] == "SNIPER_SECRETS_KEY"
    secrets_file = cli.dirs / "data" / SECRETS_FILE
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    # Nothing readable under the app's folders: not the key, not eBay's token, not the client secret.
    _no_secret_in_clear(cli.dirs, key, "sim-secret", "v^1.1#")
    for shown in (cli.run("config", "show"), cli.run("diagnostics"), cli.run("secrets", "status")):
        assert key not in shown.stdout + shown.stderr
    assert cli.ok_json("diagnostics")["secrets_store"]["store"] == "file"
    assert f"secrets kept in: the encrypted secrets file ({secrets_file})" in cli.run("diagnostics").stdout
    before = secrets_file.read_bytes()

    assert cli.ok_json("account", "status")["linked"] is True
    cli.env["SNIPER_SECRETS_KEY"] = "not-the-key-" + key[12:]
    for args in (("watchlist", "sync"), ("secrets", "status")):
        result = cli.run(*args)
        assert result.returncode == 1, result.stdout
        assert "does not open the encrypted secrets file" in result.stderr
        assert "Traceback" not in result.stderr
    assert secrets_file.read_bytes() == before

    del cli.env["SNIPER_SECRETS_KEY"]
    result = cli.run("watchlist", "sync")
    assert result.returncode == 1
    assert "no key was given" in result.stderr
    assert "Traceback" not in result.stderr
    assert secrets_file.read_bytes() == before

    # A keyring that appears later: the file stays in use and says so; nothing is lost.
    later = cli.env | {"SNIPER_SECRETS_KEY": key, "PYTHON_KEYRING_BACKEND": "tests.support.keyring_backend.FileKeyring"}
    shown = subprocess.run(
        [sys.executable, "-m", "sniper_app", "secrets", "status"], env=dict(os.environ) | later,
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert "stays in use so nothing in it is lost" in shown.stdout.replace("\n", " ")
    synced = subprocess.run(
        [sys.executable, "-m", "sniper_app", "watchlist", "sync"], env=dict(os.environ) | later,
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert synced.returncode == 0, synced.stderr


def test_damaged_file_is_kept_aside_with_one_sentence(cli: CliSim) -> None:
    cli.env |= NO_KEYRING | {"SNIPER_SECRETS_KEY": "a-test-key-that-is-long-enough"}
    cli.auction(title="Watched", start_price="10.00", watched_by=["demo"])
    cli.link()
    secrets_file = cli.dirs / "data" / SECRETS_FILE
    damaged = secrets_file.read_bytes()[:-40]
    secrets_file.write_bytes(damaged)
    result = cli.run("watchlist", "sync")
    assert result.returncode == 1
    assert "damaged" in result.stderr
    assert "link your eBay account again" in result.stderr
    assert "Traceback" not in result.stderr
    aside = list((cli.dirs / "data").glob(f"{SECRETS_FILE}.damaged-*"))
    assert [p.read_bytes() for p in aside] == [damaged]
    cli.link()  # a new sign-in starts a new file; the damaged one stays aside
    assert [p.read_bytes() for p in aside] == [damaged]
    assert cli.ok_json("watchlist", "sync")["count"] == 1


def test_secrets_init_writes_a_key_file_for_systemd(cli: CliSim, tmp_path: Path) -> None:
    cli.env |= NO_KEYRING
    key_file = tmp_path / "fresh" / "sniper-app" / "sniper-secrets-key"  # a folder a new box does not have yet
    made = cli.ok_json("secrets", "init", "--key-file", str(key_file))
    assert "key" not in made
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert made["systemd_line"] == f"LoadCredential=sniper-secrets-key:{key_file}"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "sniper-secrets-key").write_text(key_file.read_text())
    cli.env |= {"CREDENTIALS_DIRECTORY": str(creds)}
    cli.link()
    assert cli.ok_json("secrets", "status")["key_source"] == "systemd credential sniper-secrets-key"
    again = cli.run("secrets", "init")
    assert again.returncode == 2
    assert "already exists" in again.stderr
    bare = cli.run("secrets")  # no action: a usage sentence, never the engine
    assert bare.returncode == 2
    assert "Say what to do" in bare.stderr


def _twice(watched: dict[str, Any]) -> str:
    return str(Decimal(watched["current_price"]) * 2)
