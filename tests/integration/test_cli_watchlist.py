"""`sniper-app watchlist sync|list` against the simulator's Trading watch list."""

from __future__ import annotations

from tests.support.cli_sim import CliSim


def test_sync_lists_the_watch_list_and_drops_unwatched_items_but_not_their_snipes(cli: CliSim) -> None:
    cli.link()
    items = [
        cli.auction(title=f"Watched {n}", start_price="10.00", ends_in=3600 + n * 60, watched_by=["demo"])
        for n in range(3)
    ]
    cli.auction(title="Somebody else's", watched_by=["someone"])

    synced = cli.ok_json("watchlist", "sync")
    assert (synced["count"], synced["added"], synced["removed"]) == (3, 3, 0)
    listed = cli.ok_json("watchlist", "list")
    assert [w["item"] for w in listed] == items
    assert listed[0]["title"] == "Watched 0"
    assert listed[0]["current_price"] == "10.00"
    assert listed[0]["currency"] == "USD"
    assert listed[0]["snipe_id"] is None

    snipe_id = cli.ok_json("snipe", "add", items[0], "20")["snipe"]["id"]
    assert cli.ok_json("watchlist", "list")[0]["snipe_id"] == snipe_id
    with cli.sim.world.lock:  # the user stops watching the sniped item and another one on eBay
        cli.sim.world.users["demo"].watch.remove(items[0])
        cli.sim.world.users["demo"].watch.remove(items[2])

    text = cli.run("watchlist", "sync")
    assert text.returncode == 0, text.stderr
    assert text.stdout.strip() == "Watch list synced: 1 item (0 new, 2 no longer watched)."
    assert [w["item"] for w in cli.ok_json("watchlist", "list")] == [items[1]]
    assert [(s["id"], s["status"]) for s in cli.ok_json("snipe", "list")] == [(snipe_id, "PENDING")]
    assert "Watched 1" in cli.run("watchlist", "list").stdout
    assert cli.ok_json("diagnostics")["watch_items"] == 1


def test_sync_needs_a_linked_account(cli: CliSim) -> None:
    result = cli.run("watchlist", "sync")
    assert result.returncode == 1
    assert "account link" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert cli.ok_json("watchlist", "list") == []


def test_the_list_shows_other_sites_prices_with_ebays_conversion_and_marks_fixed_price(cli: CliSim) -> None:
    cli.link()
    gb = cli.auction(title="Brompton M6L", start_price="600.00", marketplace="EBAY_GB", ends_in=3600,
                     watched_by=["demo"])
    film = str(cli.sim.create_auction("Film, 5-pack", "54.99", 9000, buy_it_now="54.99", watched_by=["demo"],
                                      fixed_price=True)["legacy_item_id"])
    assert cli.ok_json("watchlist", "sync")["count"] == 2
    listed = {w["item"]: w for w in cli.ok_json("watchlist", "list")}
    assert (listed[gb]["currency"], listed[gb]["current_price"]) == ("GBP", "600.00")
    assert listed[gb]["converted_price"] == {"currency": "USD", "value": "769.23"}
    assert listed[gb]["snipeable"] is True
    assert (listed[film]["listing_type"], listed[film]["snipeable"]) == ("FixedPriceItem", False)
    lines = cli.run("watchlist", "list").stdout.splitlines()
    bike = next(line for line in lines if "Brompton" in line)
    assert "£600.00 ≈ $769.23" in bike
    assert "not snipeable" not in bike
    assert next(line for line in lines if "Film" in line).endswith("[fixed price: not snipeable]")


def test_history_shows_the_conversion_of_the_day_beside_a_british_listings_amounts(cli: CliSim) -> None:
    cli.link()  # the user's marketplace is EBAY_US: eBay converts the pounds into dollars for them
    gb = cli.auction(title="Brompton M6L", start_price="600.00", marketplace="EBAY_GB", ends_in=3600,
                     watched_by=["demo"])
    assert cli.ok_json("watchlist", "sync")["count"] == 1
    snipe_id = cli.ok_json("snipe", "add", gb, "650")["snipe"]["id"]
    assert cli.run("snipe", "edit", str(snipe_id), "--max", "700").returncode == 0

    events = [e for e in cli.ok_json("history") if e["snipe_id"] == snipe_id]
    assert [e["action"] for e in events] == ["UPDATE", "CREATE"]
    edited, created = events
    # £600.00 ≈ $769.23 is eBay's rate: £650.00 ≈ $833.33 and £700.00 ≈ $897.44, bid in pounds all the same.
    assert (created["currency"], created["amount"]) == ("GBP", "650.00")
    assert created["converted_amount"] == {"currency": "USD", "value": "833.33"}
    assert (edited["amount"], edited["converted_amount"]) == ("700.00", {"currency": "USD", "value": "897.44"})
    assert created["converted_final_price"] is None
    account = next(e for e in cli.ok_json("history") if e["action"] == "ACCOUNT")
    assert (account["amount"], account["converted_amount"]) == (None, None)

    lines = cli.run("history").stdout.splitlines()
    assert next(line for line in lines if " CREATE " in line).endswith("(£650.00 ≈ $833.33)")
    assert next(line for line in lines if " UPDATE " in line).endswith("(£700.00 ≈ $897.44)")
    # An event without an amount shows none.
    assert "≈" not in next(line for line in lines if " ACCOUNT " in line)


def test_history_of_a_listing_in_the_users_own_currency_shows_no_conversion(cli: CliSim) -> None:
    cli.link()
    item = cli.auction(title="Canon AE-1", start_price="40.00", watched_by=["demo"])
    snipe_id = cli.ok_json("snipe", "add", item, "55")["snipe"]["id"]
    (created,) = [e for e in cli.ok_json("history") if e["snipe_id"] == snipe_id]
    assert (created["amount"], created["converted_amount"]) == ("55.00", None)
    line = next(line for line in cli.run("history").stdout.splitlines() if " CREATE " in line)
    assert line.endswith("($55.00)")
    assert "≈" not in line
