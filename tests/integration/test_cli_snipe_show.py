"""`sniper-app snipe show` and the outcome and landed cost in `snipe list --json`, as subprocesses against the
simulator."""

from __future__ import annotations

from datetime import timedelta

from sniper_app.domain.status import SnipeStatus
from sniper_app.store import Store
from tests.support.cli_sim import CliSim


def test_a_maximum_that_includes_shipping_bids_less_the_charges_and_says_so(cli: CliSim) -> None:
    cli.link()
    item = cli.auction(title="Lens", start_price="10.00", shipping="5.00", import_charges="2.50")
    added = cli.run("snipe", "add", item, "40.00", "--includes-shipping")
    assert added.returncode == 0, added.stderr
    assert "Landed: $40.00 + $5.00 shipping + $2.50 import charges = $47.50." in added.stdout
    assert "Bids $32.50: your maximum of $40.00 includes $5.00 shipping and $2.50 import charges." in added.stdout

    (snipe,) = cli.ok_json("snipe", "list")
    assert snipe["shipping"] == {"currency": "USD", "value": "5.00"}
    assert snipe["import_charges"] == {"currency": "USD", "value": "2.50"}
    assert (snipe["landed_total"], snipe["includes_shipping"], snipe["bid"]) == ("47.50", True, "32.50")
    assert snipe["outcome"] is None  # not ended yet

    plain = cli.run("snipe", "edit", str(snipe["id"]), "--no-includes-shipping")
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.splitlines()[1] == "Landed: $40.00 + $5.00 shipping + $2.50 import charges = $47.50."
    assert cli.ok_json("snipe", "list")[0]["bid"] == "40.00"


def test_a_maximum_the_charges_would_use_up_is_refused_in_one_sentence(cli: CliSim) -> None:
    cli.link()
    item = cli.auction(start_price="10.00", shipping="35.00")
    result = cli.run("snipe", "add", item, "40.00", "--includes-shipping")
    assert result.returncode == 2
    assert result.stderr.strip() == ("sniper-app: Your maximum of $40.00 less $35.00 shipping leaves $5.00, below the "
                                     "least bid eBay accepts ($10.00).")
    assert cli.ok_json("snipe", "list") == []


def test_show_prints_the_outcome_timing_landed_cost_and_history(cli: CliSim) -> None:
    cli.link()
    item = cli.auction(title="Radio", start_price="10.00", shipping="4.00")
    pk = str(cli.ok_json("snipe", "add", item, "30.00")["snipe"]["id"])
    assert cli.run("snipe", "cancel", pk).returncode == 0

    shown = cli.run("snipe", "show", pk)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert "Outcome: cancelled — Cancelled before it fired: no bid of $30.00 was sent." in lines
    assert "Timing: no bid was sent." in lines
    assert "Landed: $30.00 + $4.00 shipping = $34.00." in lines
    assert lines[lines.index("History:") + 1].split()[3] == "CREATE"
    assert lines[-1].split()[3] == "CANCEL"

    data = cli.ok_json("snipe", "show", pk)
    assert data["outcome"] == {"code": "cancelled", "sentence": "Cancelled before it fired: no bid of $30.00 was sent.",
                               "derived": False}
    assert data["landed_total"] == "34.00"
    assert [e["action"] for e in data["history"]] == ["CREATE", "CANCEL"]
    assert data["timing"] == []
    (listed,) = cli.ok_json("snipe", "list")
    assert listed["outcome"] == data["outcome"]


def test_show_of_an_unknown_snipe_is_one_sentence(cli: CliSim) -> None:
    cli.link()
    result = cli.run("snipe", "show", "99", "--json")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "99" in result.stderr


def test_show_tells_a_fired_tie_in_words_and_an_old_row_gets_a_derived_outcome(cli: CliSim) -> None:
    cli.link()
    first = cli.ok_json("snipe", "add", cli.auction(title="Tied"), "50.00")["snipe"]["id"]
    second = cli.ok_json("snipe", "add", cli.auction(title="Old row"), "30.00")["snipe"]["id"]
    with Store.open(cli.dirs / "data") as store:
        end = store.get_snipe(first).end_time
        store.set_status(first, SnipeStatus.SCHEDULED)
        store.set_status(first, SnipeStatus.PLACING)
        store.record_timing(first, planned_at=end - timedelta(seconds=5.0), sent_at=end - timedelta(seconds=5.002),
                            reply_at=end - timedelta(seconds=4.9), clock_offset_ms=0.0, latency_ms=40.0, attempts=1)
        store.set_status(first, SnipeStatus.PLACED)
        store.set_status(first, SnipeStatus.LOST, reason="Lost: the auction ended at $50.00.", final_price_minor=5000,
                         outcome_code="tie_lost")
        # A row ended before outcomes were kept: no code, no sentence.
        store.cancel(second)
        store.update_fields(second, outcome_code=None, outcome_text=None)

    tied = cli.run("snipe", "show", str(first))
    assert tied.returncode == 0, tied.stderr
    assert ("Outcome: tie_lost — Lost on a tie: another bidder placed the same maximum of $50.00 earlier, and eBay "
            "gives a tie to the earlier bid. It went for $50.00.") in tied.stdout.splitlines()
    assert ("Timing: Bid sent 5.002 s before the end (planned 5.000 s); eBay received it about 4.96 s before the end. "
            "Clock offset used +0.000 s, latency 40 ms. eBay answered 102 ms after the bid left.") in tied.stdout

    old = cli.ok_json("snipe", "show", str(second))
    assert old["outcome"] == {"code": "cancelled", "sentence": "Cancelled before it fired: no bid of $30.00 was sent.",
                              "derived": True}
    assert "Outcome: cancelled (derived from its status)" in cli.run("snipe", "show", str(second)).stdout


def test_list_shows_each_ended_snipes_outcome_sentence_within_80_columns(cli: CliSim) -> None:
    cli.link()
    long_title = "Vintage Leica M3 rangefinder camera body with Summicron 50mm f/2 lens, serviced"
    lost = cli.ok_json("snipe", "add", cli.auction(title=long_title, start_price="100.00"), "135.00")["snipe"]["id"]
    won = cli.ok_json("snipe", "add", cli.auction(title="Lamp", start_price="10000.00"), "12345.67")["snipe"]["id"]
    waiting = cli.ok_json("snipe", "add", cli.auction(title=long_title, start_price="20.00"), "40.00")["snipe"]["id"]
    with Store.open(cli.dirs / "data") as store:
        for pk in (lost, won):
            for status in (SnipeStatus.SCHEDULED, SnipeStatus.PLACING, SnipeStatus.PLACED):
                store.set_status(pk, status)
        store.set_status(lost, SnipeStatus.LOST, reason="Lost: the auction ended at $137.50.", final_price_minor=13750,
                         outcome_code="outbid")
        store.set_status(won, SnipeStatus.WON, reason="Won for $11,000.00.", final_price_minor=1_100_000,
                         outcome_code="won")

    listed = cli.run("snipe", "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), lines
    by_id = {line.split()[0]: n for n, line in enumerate(lines) if line.startswith("#")}
    lost_line = lines[by_id[f"#{lost}"]]
    assert lost_line.startswith(f"#{lost:<4} LOST      max $135.00  ended ")
    # The title is cut to fit, the money never.
    assert lost_line.endswith("…")
    assert "Vintage Leica" in lost_line
    assert lines[by_id[f"#{lost}"] + 1] == "      Outbid: it went for $137.50; your maximum was $135.00."
    won_line = lines[by_id[f"#{won}"]]
    assert " max $12,345.67  ended " in won_line
    assert "      Won at $11,000.00, saving $1,345.67 below your maximum of $12,345.67." in lines
    assert "Won for $11,000.00." not in listed.stdout  # the status reason gives way to the outcome sentence
    waiting_line = lines[by_id[f"#{waiting}"]]
    assert " max $40.00  now $20.00  lead " in waiting_line
    # No room left for a readable title beside the amounts: it takes the next line, cut to fit.
    assert lines[by_id[f"#{waiting}"] + 1].startswith("      Vintage Leica M3")
    assert lines[by_id[f"#{waiting}"] + 1].endswith("…")
    # The JSON keeps every field whole.
    assert {s["id"]: s["title"] for s in cli.ok_json("snipe", "list")}[lost] == long_title
