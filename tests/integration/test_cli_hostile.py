"""The command line against hostile input and a damaged disk: one sentence, the right exit code, nothing lost."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sniper_app.store import Store
from tests.support.cli import run_cli
from tests.support.cli_sim import CliSim

# A title that would retitle the terminal, clear the screen, move the cursor and reverse the text.
HOSTILE_TITLE = "Lens \x1b]0;pwned\x07\x1b[2J\x1b[H\rfake\u202eelif\x9b31m"

COMMANDS = [
    ("snipe", "list"),
    ("snipe", "cancel", "1"),
    ("snipe", "edit", "1", "--max", "20"),
    ("snipe", "add", "123456789012", "20"),
    ("history",),
    ("watchlist", "list"),
    ("watchlist", "sync"),
    ("group", "add", "g"),
    ("group", "list"),
    ("account", "status"),
    ("diagnostics",),
]


def _sentence(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def _no_raw_controls(text: str) -> None:
    assert not any(ch in text for ch in "\x1b\x07\r\x9b\u202e"), repr(text)


@pytest.fixture
def linked(cli: CliSim) -> CliSim:
    cli.link()
    return cli


# --- command groups without their action -----------------------------------------------------------


@pytest.mark.parametrize("group", ["config", "snipe", "watchlist", "account", "group", "notify"])
@pytest.mark.parametrize("as_json", [False, True])
def test_a_command_group_alone_prints_its_usage_and_starts_no_engine(
    isolated_dirs: Path, group: str, as_json: bool
) -> None:
    result = run_cli(group, *(["--json"] if as_json else []), timeout=30)
    assert result.returncode == 2
    assert result.stdout == ""
    if as_json:
        assert json.loads(result.stderr)["exit_code"] == 2
    else:
        assert f"sniper-app {group} --help" in _sentence(result.stderr)
    # An engine would have opened the database and written its log.
    assert not (isolated_dirs / "data" / "sniper.db").exists()


# --- integers past SQLite's range, bounded fields --------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("snipe", "edit", "99999999999999999999", "--max", "20"),
        ("snipe", "cancel", "9" * 30),
        ("group", "add", "g", "--wins", str(10**30)),
        ("group", "add", "g", "--wins", "9223372036854775807"),
        ("group", "add", "g", "--wins", "101"),
        ("history", "--limit", "9" * 40),
        ("snipe", "cancel", "9" * 5000),
    ],
)
def test_huge_integers_are_refused_with_a_sentence(isolated_dirs: Path, args: tuple[str, ...]) -> None:
    result = run_cli(*args)
    assert result.returncode == 2, result.stderr
    line = _sentence(result.stderr)
    assert "OverflowError" not in line
    assert len(line) < 300
    listed = run_cli("group", "list", "--json")
    assert json.loads(listed.stdout) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("x" * 10_000, "at most 60 characters"),
        ("two\nlines", "control characters"),
        ("\x1b]0;pwned\x07", "control characters"),
        ("   ", "needs a name"),
    ],
)
def test_group_names_are_bounded(isolated_dirs: Path, name: str, expected: str) -> None:
    result = run_cli("group", "add", name)
    assert result.returncode == 2
    line = _sentence(result.stderr)
    assert expected in line
    _no_raw_controls(line)
    assert json.loads(run_cli("group", "list", "--json").stdout) == []


def test_wins_up_to_the_group_size_is_kept(isolated_dirs: Path) -> None:
    result = run_cli("group", "add", "Lenses", "--wins", "100", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["target_wins"] == 100


def test_an_end_date_years_away_is_not_scheduled(linked: CliSim) -> None:
    item = linked.auction(title="Far away", ends_in=(datetime(9999, 12, 30, tzinfo=UTC) - datetime.now(UTC))
                          .total_seconds())
    result = linked.run("snipe", "add", item, "20")
    assert result.returncode == 2
    assert "more than 31 days away" in _sentence(result.stderr)
    assert linked.ok_json("snipe", "list") == []


def test_a_huge_title_is_stored_cut_short(linked: CliSim) -> None:
    item = linked.auction(title="Camera " + "x" * 2_000_000, start_price="10.00")
    added = linked.ok_json("snipe", "add", item, "20")
    title = added["snipe"]["title"]
    assert title.startswith("Camera xxx")
    assert title.endswith("…")
    assert len(title) == 300
    assert [s["title"] for s in linked.ok_json("snipe", "list")] == [title]


# --- terminal escapes from eBay ----------------------------------------------------------------------


def test_escapes_in_ebay_titles_never_reach_the_terminal(linked: CliSim) -> None:
    item = linked.auction(title=HOSTILE_TITLE, start_price="10.00", watched_by=["demo"])
    added = linked.run("snipe", "add", item, "20")
    assert added.returncode == 0, added.stderr
    assert "Lens \\x1b]0;pwned\\x07\\x1b[2J" in added.stdout
    synced = linked.run("watchlist", "sync")
    assert synced.returncode == 0, synced.stderr
    for args in (("snipe", "list"), ("watchlist", "list"), ("history",), ("snipe", "cancel", "1")):
        result = linked.run(*args)
        assert result.returncode == 0, result.stderr
        _no_raw_controls(result.stdout)
        # The watch list comes through Trading's XML, which cannot carry C0 controls; the rest can.
        assert "fake\\u202eelif\\x9b31m" in result.stdout, args
        if args[0] != "watchlist":
            assert "\\x1b]0;pwned" in result.stdout, args
    # JSON keeps the title exactly as eBay sent it (escaped by JSON itself).
    assert linked.ok_json("snipe", "list")[0]["title"] == HOSTILE_TITLE


def test_escapes_in_an_error_sentence_are_shown_not_obeyed(isolated_dirs: Path) -> None:
    result = run_cli("snipe", "list", "--status", "\x1b[2Jgone")
    assert result.returncode == 2
    line = _sentence(result.stderr)
    _no_raw_controls(line)
    assert "\\x1b[2Jgone" in line


# --- a damaged database ------------------------------------------------------------------------------


def _corrupt(data_dir: Path) -> tuple[Path, str]:
    db = data_dir / "sniper.db"
    db.write_bytes(os.urandom(200_000))
    return db, hashlib.sha256(db.read_bytes()).hexdigest()


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a) for a in COMMANDS])
def test_a_damaged_database_gets_a_sentence_and_stays_untouched(
    isolated_dirs: Path, args: tuple[str, ...]
) -> None:
    db, digest = _corrupt(isolated_dirs / "data")
    result = run_cli(*args)
    assert result.returncode == 1, result.stderr
    line = _sentence(result.stderr)
    assert str(db) in line
    assert "move sniper.db aside" in line
    as_json = run_cli(*args, "--json")
    assert as_json.returncode == 1
    error = json.loads(as_json.stderr)
    assert error["exit_code"] == 1
    assert str(db) in error["error"]
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in db.parent.iterdir()) == ["sniper.db"]


def test_a_damaged_database_names_its_latest_backup(isolated_dirs: Path) -> None:
    data = isolated_dirs / "data"
    _corrupt(data)
    backup = data / "sniper.db.v3-20260101T000000000000Z.bak"
    backup.write_bytes(b"backup")
    line = _sentence(run_cli("snipe", "list").stderr)
    assert str(backup) in line


def test_damage_past_the_header_gets_the_same_sentence(isolated_dirs: Path) -> None:
    for n in range(40):
        assert run_cli("group", "add", f"Group {n}").returncode == 0
    db = isolated_dirs / "data" / "sniper.db"
    with db.open("r+b") as handle:  # the header and schema survive; the pages after them do not
        handle.seek(4096 * 3)
        handle.write(os.urandom(4096 * 4))
    for as_json in (False, True):
        result = run_cli("group", "list", *(["--json"] if as_json else []))
        assert result.returncode == 1
        line = _sentence(result.stderr)
        assert str(db) in line
        assert "damaged" in line


def test_the_engine_does_not_start_on_a_damaged_database(isolated_dirs: Path) -> None:
    db, digest = _corrupt(isolated_dirs / "data")
    result = run_cli("--headless", timeout=60)
    assert result.returncode == 1
    assert str(db) in result.stderr
    assert "Traceback" not in result.stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest


# --- a read-only data folder ---------------------------------------------------------------------------


@pytest.fixture
def read_only_data() -> Iterator[tuple[Path, dict[str, str]]]:
    """A data folder with one snipe that the CLI can read but not write.

    Root writes through any permission, so as root the CLI runs in its own mount namespace where the
    folder is a read-only bind mount (as on a read-only disk); otherwise the folder is simply mode 0555.
    """
    base = Path(tempfile.mkdtemp(prefix="sniper-ro-"))
    base.chmod(0o755)
    data, config = base / "data", base / "config"
    data.mkdir()
    config.mkdir()
    with Store.open(data) as store:
        user = store.get_or_create_user()
        store.create_snipe(user.id, legacy_item_id="111", currency="USD", max_bid_minor=2500,
                           end_time=datetime.now(UTC) + timedelta(hours=1), lead_seconds=5, title="Kept")
    for path in (data, config):
        path.chmod(0o555)
    for path in data.iterdir():
        path.chmod(0o444)
    env = {"SNIPER_DATA_DIR": str(data), "SNIPER_CONFIG_DIR": str(config), "SNIPER_LOG_DIR": str(base / "logs")}
    try:
        yield data, env
    finally:
        for path in (data, config):
            path.chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)


def _run_read_only(data: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "sniper_app", *args]
    if os.geteuid() == 0:
        mount = f"mount --bind {data} {data} && mount -o remount,bind,ro {data} && exec \"$@\""
        command = ["unshare", "--mount", "sh", "-c", mount, "sh", *command]
    return subprocess.run(command, env=dict(os.environ) | env, capture_output=True, text=True, timeout=60, check=False)


def test_a_read_only_data_folder_reads_but_refuses_changes(
    read_only_data: tuple[Path, dict[str, str]],
) -> None:
    data, env = read_only_data
    before = {p.name: p.read_bytes() for p in data.iterdir()}
    listed = _run_read_only(data, env, "snipe", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [(s["title"], s["max_bid"]) for s in json.loads(listed.stdout)] == [("Kept", "25.00")]
    for args in (("history",), ("group", "list"), ("watchlist", "list"), ("diagnostics",)):
        result = _run_read_only(data, env, *args)
        assert result.returncode == 0, (args, result.stderr)
    for args in (("snipe", "cancel", "1"), ("group", "add", "Lenses")):
        result = _run_read_only(data, env, *args)
        assert result.returncode == 1, result.stderr
        assert f"The data folder {data} is read-only" in _sentence(result.stderr)
    engine = _run_read_only(data, env, "--headless")
    assert engine.returncode == 1
    assert f"The data folder {data} is read-only" in _sentence(engine.stderr)
    assert "Sniper engine running" not in engine.stdout
    assert {p.name: p.read_bytes() for p in data.iterdir()} == before
    assert oct(data.stat().st_mode & 0o777) == oct(0o555)


# --- settings wording ------------------------------------------------------------------------------------


def test_config_set_echoes_the_saved_value_and_names_the_override(isolated_dirs: Path) -> None:
    target = isolated_dirs / "elsewhere"
    result = run_cli("config", "set", "data_dir", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"data_dir = {target} (saved; SNIPER_DATA_DIR overrides it while set)"
    )
    as_json = json.loads(run_cli("config", "set", "data_dir", str(target), "--json").stdout)
    assert as_json == {"data_dir": str(target), "overridden_by": "SNIPER_DATA_DIR"}
    plain = run_cli("config", "set", "default_lead_seconds", "7")
    assert plain.stdout.strip() == "default_lead_seconds = 7.0"


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("ebay_api_url", "http://x y", "URL without spaces"),
        ("default_lead_seconds", "nan", "finite number"),
        ("min_seconds_before_end", "inf", "finite number"),
    ],
)
def test_config_set_refuses_values_that_only_look_right(
    isolated_dirs: Path, field: str, value: str, expected: str
) -> None:
    result = run_cli("config", "set", field, value)
    assert result.returncode == 2
    assert expected in _sentence(result.stderr)
    assert not (isolated_dirs / "config" / "settings.json").exists()


def test_history_lines_without_an_item_have_no_stray_colon(linked: CliSim) -> None:
    lines = linked.run("history").stdout.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].endswith("  ACCOUNT    eBay account demo linked.")


def test_an_item_without_buy_it_now_has_no_buy_it_now_price(linked: CliSim) -> None:
    plain = linked.auction(title="Plain", watched_by=["demo"])
    with_bin = linked.auction(title="With BIN", buy_it_now="99.00", watched_by=["demo"])
    assert linked.run("watchlist", "sync").returncode == 0
    prices = {w["item"]: w["buy_it_now"] for w in linked.ok_json("watchlist", "list")}
    assert prices == {plain: None, with_bin: "99.00"}


# --- the simulator's own arguments -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--port", "-1"), "is not a port"),
        (("--port", "99999"), "is not a port"),
        (("--sntp-port", "x"), "is not a port number"),
        (("--clock-offset", "nan"), "must be a number of seconds"),
        (("--clock-offset", "1e12"), "must be a number of seconds"),
        (("--latency-ms", "-5"), "must be a number of milliseconds"),
        (("--host", "no-such-host.invalid"), "cannot be resolved"),
    ],
)
def test_simulator_arguments_are_checked(args: tuple[str, ...], expected: str) -> None:
    result = run_cli("simulator", *args, timeout=30)
    assert result.returncode == 2
    assert expected in _sentence(result.stderr)


def test_simulator_on_a_port_in_use_says_so() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("simulator", "--port", str(port), timeout=30)
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1 port {port}" in _sentence(result.stderr)


# --- a full disk ---------------------------------------------------------------------------------------

_FULL_DISK_SCRIPT = """
set -u
mount -t tmpfs -o size=1m tmpfs "$SNIPER_DATA_DIR"
"$@" group add First --json; echo "rc=$?"
dd if=/dev/zero of="$SNIPER_DATA_DIR/fill" bs=4k 2>/dev/null; echo filled
"$@" group add Second; echo "rc=$?"
"$@" group add Second --json; echo "rc=$?"
rm "$SNIPER_DATA_DIR/fill"; echo freed
"$@" group list --json; echo "rc=$?"
"""


def test_a_full_disk_gets_a_sentence_and_keeps_what_was_saved(isolated_dirs: Path) -> None:
    """A real full disk: a 1 MB tmpfs as the data folder, filled up, in a mount namespace of its own."""
    data = isolated_dirs / "data"
    result = subprocess.run(
        ["unshare", "--map-root-user", "--mount", "sh", "-c", _FULL_DISK_SCRIPT, "sh",
         sys.executable, "-m", "sniper_app"],
        env=dict(os.environ) | {"SNIPER_DATA_DIR": str(data)}, capture_output=True, text=True, timeout=120,
        check=False,
    )
    out = result.stdout.splitlines()
    assert out[:3] == ['{"id": 1, "name": "First", "target_wins": 1}', "rc=0", "filled"], result
    assert out[3:5] == ["rc=1", "rc=1"], result
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 2, result.stderr
    assert errors[0].startswith(f"sniper-app: The disk holding {data} is full")
    assert "Free some space" in errors[0]
    assert json.loads(errors[1])["exit_code"] == 1
    assert out[5] == "freed"
    assert [g["name"] for g in json.loads(out[6])] == ["First"]
    assert out[7] == "rc=0"


# --- the property end to end: real processes -------------------------------------------------------------

_cli_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_cli_text, wins=_cli_text | st.integers(-5, 10**25).map(str))
def test_group_add_from_a_real_process_is_a_group_or_a_sentence(isolated_dirs: Path, name: str, wins: str) -> None:
    if name.startswith("-") or wins.startswith("-"):
        name, wins = f"x{name}", f"x{wins}"  # an option, not a value: argparse's own business
    result = run_cli("group", "add", name, "--wins", wins, "--json")
    assert result.returncode in (0, 1, 2), result
    assert "Traceback" not in result.stderr
    if result.returncode == 0:
        group = json.loads(result.stdout)
        assert (group["name"], group["target_wins"]) == (name.strip(), int(wins))
    else:
        assert json.loads(result.stderr)["exit_code"] == result.returncode


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(snipe_id=_cli_text | st.integers(-3, 10**30).map(str), amount=_cli_text, lead=_cli_text)
def test_snipe_edit_from_a_real_process_always_answers_a_sentence(
    isolated_dirs: Path, snipe_id: str, amount: str, lead: str
) -> None:
    args = [a if not a.startswith("-") else f"x{a}" for a in (snipe_id, amount, lead)]
    result = run_cli("snipe", "edit", args[0], "--max", args[1], "--lead", args[2])
    assert result.returncode in (1, 2), result  # no snipe exists: never a success
    _sentence(result.stderr)
