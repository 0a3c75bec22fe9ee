"""`sniper-app snipe …`, `group …` and `history` as subprocesses against the simulator."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.cli_sim import CliSim


@pytest.fixture
def linked(cli: CliSim) -> CliSim:
    cli.link()
    return cli


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def _snipes(cli: CliSim) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = cli.ok_json("snipe", "list")
    return result


@pytest.mark.parametrize(
    "form",
    [
        lambda item: item,
        lambda item: f"https://www.ebay.com/itm/Some-title/{item}?hash=abc",
        lambda item: f"v1|{item}|0",
    ],
    ids=["number", "url", "restful-id"],
)
def test_add_by_number_url_or_restful_id(linked: CliSim, form: Any) -> None:
    item = linked.auction(title="Canon AE-1", start_price="10.00", ends_in=3600)
    added = linked.ok_json("snipe", "add", form(item), "25.50", "--lead", "7")
    snipe = added["snipe"]
    assert added["warnings"] == []
    assert snipe["item"] == item
    assert snipe["rest_item_id"] == f"v1|{item}|0"
    assert snipe["title"] == "Canon AE-1"
    assert (snipe["status"], snipe["max_bid"], snipe["currency"], snipe["lead_seconds"]) == (
        "PENDING", "25.50", "USD", 7.0,
    )
    assert [s["id"] for s in _snipes(linked)] == [snipe["id"]]


def test_text_output_and_default_lead(linked: CliSim) -> None:
    item = linked.auction(title="Game Boy", start_price="10.00")
    result = linked.run("snipe", "add", item, "$30")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Snipe #1 added: Game Boy — max $30.00, bid 5 s before the end")
    listed = linked.run("snipe", "list")
    assert "PENDING" in listed.stdout
    assert "$30.00" in listed.stdout
    assert "Game Boy" in listed.stdout


def test_amount_below_the_minimum_is_refused_and_nothing_is_written(linked: CliSim) -> None:
    item = linked.auction(start_price="10.00")
    result = linked.run("snipe", "add", item, "9.99")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "minimum next bid of $10.00" in _one_line(result.stderr)
    assert _snipes(linked) == []
    assert {e["action"] for e in linked.ok_json("history", "--limit", "100")} == {"ACCOUNT"}


def test_json_errors_are_json(linked: CliSim) -> None:
    item = linked.auction(start_price="10.00")
    result = linked.run("snipe", "add", item, "1.00", "--json")
    assert result.returncode == 2
    error = json.loads(result.stderr)
    assert error["exit_code"] == 2
    assert "$10.00" in error["error"]


def test_wrong_currency_is_bad_input(linked: CliSim) -> None:
    item = linked.auction(start_price="10.00")
    result = linked.run("snipe", "add", item, "€30")
    assert result.returncode == 2
    assert "USD" in _one_line(result.stderr)


def test_unknown_item_and_garbage_are_bad_input(linked: CliSim) -> None:
    unknown = linked.run("snipe", "add", "123456789012", "20")
    assert unknown.returncode == 2
    assert "eBay does not know item 123456789012" in _one_line(unknown.stderr)
    garbage = linked.run("snipe", "add", "not-an-item", "20")
    assert garbage.returncode == 2
    assert "eBay item number" in _one_line(garbage.stderr)
    bad_lead = linked.run("snipe", "add", linked.auction(), "20", "--lead", "500")
    assert bad_lead.returncode == 2
    assert "Lead time must be between 1 and 120 seconds" in _one_line(bad_lead.stderr)


def test_auction_ending_too_soon_is_refused(linked: CliSim) -> None:
    item = linked.auction(start_price="10.00", ends_in=30)
    result = linked.run("snipe", "add", item, "20")
    assert result.returncode == 2
    assert "a snipe needs at least 1 minute before the end" in _one_line(result.stderr)


def test_auction_ending_soon_is_accepted_with_a_warning(linked: CliSim) -> None:
    item = linked.auction(start_price="10.00", ends_in=200)
    added = linked.ok_json("snipe", "add", item, "20")
    assert len(added["warnings"]) == 1
    assert "little time" in added["warnings"][0]


def test_second_snipe_on_one_item_is_refused(linked: CliSim) -> None:
    item = linked.auction(start_price="10.00")
    linked.ok_json("snipe", "add", item, "20")
    again = linked.run("snipe", "add", item, "30")
    assert again.returncode == 2
    assert "already have a snipe on this item" in _one_line(again.stderr)


def test_unlinked_account_is_exit_1(cli: CliSim) -> None:
    result = cli.run("snipe", "add", cli.auction(), "20")
    assert result.returncode == 1
    assert "account link" in _one_line(result.stderr)
    assert _snipes(cli) == []


def test_cancel_edit_and_history(linked: CliSim) -> None:
    item = linked.auction(title="Leica lens", start_price="10.00")
    snipe_id = linked.ok_json("snipe", "add", item, "20")["snipe"]["id"]

    edited = linked.ok_json("snipe", "edit", str(snipe_id), "--max", "31.25", "--lead", "9")["snipe"]
    assert (edited["max_bid"], edited["lead_seconds"]) == ("31.25", 9.0)
    too_low = linked.run("snipe", "edit", str(snipe_id), "--max", "5")
    assert too_low.returncode == 2
    assert "$10.00" in too_low.stderr
    nothing = linked.run("snipe", "edit", str(snipe_id))
    assert nothing.returncode == 2
    assert "Nothing to change" in nothing.stderr

    cancelled = linked.run("snipe", "cancel", str(snipe_id))
    assert cancelled.returncode == 0, cancelled.stderr
    assert f"Snipe #{snipe_id} cancelled" in cancelled.stdout
    assert [s["status"] for s in linked.ok_json("snipe", "list", "--status", "cancelled")] == ["CANCELLED"]
    assert linked.ok_json("snipe", "list", "--status", "PENDING") == []

    again = linked.run("snipe", "cancel", str(snipe_id))
    assert again.returncode == 2
    assert "already ended as cancelled" in _one_line(again.stderr)
    late_edit = linked.run("snipe", "edit", str(snipe_id), "--max", "40")
    assert late_edit.returncode == 2
    assert "can no longer be changed" in late_edit.stderr
    missing = linked.run("snipe", "cancel", "999")
    assert missing.returncode == 2
    assert "There is no snipe #999" in _one_line(missing.stderr)

    history = linked.ok_json("history", "--limit", "10")
    mine = [e for e in history if e["snipe_id"] == snipe_id]
    assert [e["action"] for e in mine] == ["CANCEL", "UPDATE", "CREATE"]
    assert mine[1]["details"]["changes"]["max_bid_minor"] == [2000, 3125]
    assert mine[2]["amount"] == "20.00"
    assert mine[2]["title"] == "Leica lens"
    assert len(linked.ok_json("history", "--limit", "1")) == 1
    bad_status = linked.run("snipe", "list", "--status", "nope")
    assert bad_status.returncode == 2
    assert "PENDING" in bad_status.stderr


def test_groups(linked: CliSim) -> None:
    item = linked.auction(start_price="10.00")
    unknown = linked.run("snipe", "add", item, "20", "--group", "Cameras")
    assert unknown.returncode == 2
    assert "group add" in _one_line(unknown.stderr)
    assert _snipes(linked) == []

    created = linked.ok_json("group", "add", "Cameras", "--wins", "2")
    assert (created["name"], created["target_wins"]) == ("Cameras", 2)
    duplicate = linked.run("group", "add", "Cameras")
    assert duplicate.returncode == 2
    assert "already exists" in duplicate.stderr
    assert linked.run("group", "add", "Lenses", "--wins", "0").returncode == 2

    snipe = linked.ok_json("snipe", "add", item, "20", "--group", "Cameras")["snipe"]
    assert snipe["group"] == "Cameras"
    assert linked.ok_json("group", "list") == [
        {"id": created["id"], "name": "Cameras", "target_wins": 2, "members": 1, "active": 1, "won": 0}
    ]
    assert "Cameras: win 2 — 1 snipe, 1 active, 0 won" in linked.run("group", "list").stdout


def test_diagnostics_counts_from_the_database(linked: CliSim) -> None:
    linked.ok_json("snipe", "add", linked.auction(start_price="10.00"), "20")
    diag = linked.ok_json("diagnostics")
    assert diag["snipes"] == {"PENDING": 1}
    assert diag["account"] == {"username": "demo", "needs_relink": False}
    assert diag["ebay_env"] == "simulator"
    assert diag["engine"] is None


def test_lead_auto_from_the_command_line_and_the_setting(linked: CliSim) -> None:
    item = linked.auction(title="Auto lamp", start_price="10.00")
    added = linked.run("snipe", "add", item, "20", "--lead", "auto")
    assert added.returncode == 0, added.stderr
    assert "at the shortest safe lead before the end" in added.stdout
    [shown] = linked.ok_json("snipe", "list")
    assert (shown["lead_auto"], shown["lead_seconds"], shown["lead_chosen_seconds"]) == (True, 0.0, None)
    assert "lead auto " in linked.run("snipe", "list").stdout  # no engine ran: nothing chosen yet
    fixed = linked.ok_json("snipe", "edit", str(shown["id"]), "--lead", "7")["snipe"]
    assert (fixed["lead_auto"], fixed["lead_seconds"]) == (False, 7.0)
    bad = linked.run("snipe", "edit", str(shown["id"]), "--lead", "soon")
    assert bad.returncode == 2
    assert "'soon' is not a number of seconds" in bad.stderr

    assert linked.run("config", "set", "auto_lead", "true").returncode == 0
    other = linked.auction(title="Auto by default", start_price="10.00")
    assert linked.ok_json("snipe", "add", other, "20")["snipe"]["lead_auto"] is True
