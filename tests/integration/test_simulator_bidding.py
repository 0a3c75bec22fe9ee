"""Proxy-bidding auctions of the simulator: prices, winners, rivals, reserve, Buy It Now, Trading lists."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import quote
from xml.etree.ElementTree import Element

import httpx
import pytest
from defusedxml import ElementTree
from hypothesis import given, settings
from hypothesis import strategies as st

from sniper_app.simulator import SimulatorServer
from sniper_app.simulator.sim_clock import SimClock
from sniper_app.simulator.world import World
from tests.support.simulator import user_token

NS = {"e": "urn:ebay:apis:eBLBaseComponents"}

# The test's own copy of eBay's US table, in cents: (from price, increment).
US_TABLE = [(0, 5), (100, 25), (500, 50), (2500, 100), (10000, 250), (25000, 500), (50000, 1000),
            (100000, 2500), (250000, 5000), (500000, 10000)]
GB_TABLE = [(0, 5), (100, 20), (500, 50), (1500, 100), (6000, 200), (15000, 500), (30000, 1000),
            (60000, 2000), (150000, 5000), (300000, 10000)]


def inc(cents: int, table: list[tuple[int, int]] = US_TABLE) -> int:
    return [step for lower, step in table if cents >= lower][-1]


def cents(text: str) -> int:
    return int(Decimal(text) * 100)


def manual_bid(srv: SimulatorServer, legacy: str, user: str, value: str) -> dict[str, Any]:
    r = httpx.post(f"{srv.base_url}/_sim/auctions/{legacy}/bid", json={"user": user, "max": value})
    assert r.status_code == 200
    body: dict[str, Any] = r.json()
    return body


@pytest.mark.parametrize(
    ("start", "bids", "price", "winner", "refused"),
    [
        ("10.00", [("a", "20.00")], "10.00", "a", []),
        ("10.00", [("a", "20.00"), ("b", "15.00")], "15.50", "a", []),
        ("10.00", [("a", "20.00"), ("b", "19.80")], "20.00", "a", []),  # beaten by less than an increment
        ("10.00", [("a", "20.00"), ("b", "20.00")], "20.00", "a", []),  # tie: the earlier bid wins
        ("10.00", [("a", "20.00"), ("b", "25.00")], "20.50", "b", []),
        ("10.00", [("a", "20.00"), ("a", "30.00")], "10.00", "a", []),  # raising own max: price stays
        ("10.00", [("a", "20.00"), ("a", "15.00")], "10.00", "a", [120010]),  # cannot lower
        ("10.00", [("a", "9.99")], "10.00", None, [120008]),  # below the start price
        ("10.00", [("a", "20.00"), ("b", "10.25")], "10.00", "a", [120008]),  # below min next bid 10.50
        ("0.99", [("a", "3.00"), ("b", "1.10")], "1.35", "a", []),
        ("100.00", [("a", "300.00"), ("b", "240.00")], "242.50", "a", []),
        ("1000.00", [("a", "5000.00"), ("b", "2600.00"), ("c", "2700.00")], "2750.00", "a", []),
    ],
)
def test_proxy_bidding_table(
    sim: SimulatorServer,
    start: str,
    bids: list[tuple[str, str]],
    price: str,
    winner: str | None,
    refused: list[int],
) -> None:
    a = sim.create_auction("Case", start, 600)
    errors = [manual_bid(sim, a["legacy_item_id"], user, value)["error_id"] for user, value in bids]
    assert [e for e in errors if e is not None] == refused
    sim.set_clock_offset(601)
    state = sim.auction(a["legacy_item_id"])
    assert state["status"] == "ENDED"
    assert state["winner"] == winner
    assert state["final_price"] == (price if winner else None)
    assert state["current_price"] == price


def test_gb_increments_apply_on_ebay_gb(sim: SimulatorServer) -> None:
    a = sim.create_auction("Teapot", "10.00", 600, marketplace="EBAY_GB")
    manual_bid(sim, a["legacy_item_id"], "a", "80.00")
    state = manual_bid(sim, a["legacy_item_id"], "b", "61.00")["auction"]
    assert state["currency"] == "GBP"
    assert state["current_price"] == "63.00"  # £2 steps from £60 on ebay.co.uk (US would be 62.00)


def test_reserve_price_jumps_when_met(sim: SimulatorServer) -> None:
    a = sim.create_auction("Painting", "1.00", 600, reserve="100.00")
    state = manual_bid(sim, a["legacy_item_id"], "a", "50.00")["auction"]
    assert (state["current_price"], state["reserve_met"]) == ("1.00", False)
    state = manual_bid(sim, a["legacy_item_id"], "b", "150.00")["auction"]
    assert (state["current_price"], state["reserve_met"], state["high_bidder"]) == ("100.00", True, "b")
    sim.set_clock_offset(601)
    assert sim.auction(a["legacy_item_id"])["winner"] == "b"


def test_reserve_not_met_means_no_winner(sim: SimulatorServer) -> None:
    a = sim.create_auction("Sculpture", "1.00", 600, reserve="100.00")
    manual_bid(sim, a["legacy_item_id"], "a", "60.00")
    manual_bid(sim, a["legacy_item_id"], "b", "70.00")
    sim.set_clock_offset(601)
    state = sim.auction(a["legacy_item_id"])
    assert state["high_bidder"] == "b"
    assert state["winner"] is None
    assert state["final_price"] is None


def test_rival_sniper_fires_before_end_and_wins(sim: SimulatorServer) -> None:
    a = sim.create_auction("Guitar", "50.00", 30, rivals=[{"max": "80.00", "before_end": 1.5, "user": "sniper"}])
    manual_bid(sim, a["legacy_item_id"], "me", "70.00")
    sim.set_clock_offset(28.4)  # 1.6 s before the end: the sniper has not fired yet
    assert [b["bidder"] for b in sim.auction(a["legacy_item_id"])["bids"]] == ["me"]
    sim.set_clock_offset(31)
    state = sim.auction(a["legacy_item_id"])
    sniper_bid = state["bids"][1]
    assert sniper_bid["bidder"] == "sniper"
    assert sniper_bid["accepted"]
    assert sniper_bid["arrival_epoch"] == pytest.approx(a["end_epoch"] - 1.5, abs=1e-6)
    assert (state["winner"], state["final_price"]) == ("sniper", "71.00")


def test_bid_counts_only_before_the_end_on_the_offset_clock(sim: SimulatorServer) -> None:
    sim.set_clock_offset(-3600)  # the simulator runs an hour behind this machine
    a = sim.create_auction("Radio", "5.00", 20)
    assert a["end_epoch"] == pytest.approx(sim.now() + 20, abs=0.5)
    token = user_token(sim)
    url = f"{sim.base_url}/buy/offer/v1_beta/bidding/{quote(a['item_id'], safe='')}/place_proxy_bid"
    headers = {"Authorization": f"Bearer {token}", "X-EBAY-C-MARKETPLACE-ID": "EBAY_US"}
    assert httpx.post(url, json={"maxAmount": {"currency": "USD", "value": "9.00"}}, headers=headers).status_code == 200
    sim.set_clock_offset(-3600 + 21)
    late = httpx.post(url, json={"maxAmount": {"currency": "USD", "value": "12.00"}}, headers=headers)
    assert late.status_code == 409
    assert late.json()["errors"][0]["errorId"] == 120012
    state = sim.auction(a["legacy_item_id"])
    assert state["winner"] == "demo"
    assert state["final_price"] == "5.00"
    assert [b["accepted"] for b in state["bids"]] == [True, False]
    bidding = httpx.get(url.rsplit("/", 1)[0], headers=headers).json()
    assert bidding["auctionStatus"] == "ENDED"
    assert bidding["highBidder"] is True


def test_buy_it_now_ends_the_auction(sim: SimulatorServer) -> None:
    a = sim.create_auction("Camera", "20.00", 600, buy_it_now="75.00")
    r = httpx.post(f"{sim.base_url}/_sim/auctions/{a['legacy_item_id']}/end", json={})
    state = r.json()
    assert state["status"] == "ENDED"
    assert state["ended_by"] == "buy_it_now"
    assert state["final_price"] == "75.00"
    assert state["winner"] == "bin_buyer"
    refused = manual_bid(sim, a["legacy_item_id"], "late", "90.00")
    assert refused["error_id"] == 120002


def test_buy_it_now_disappears_at_the_first_bid(sim: SimulatorServer) -> None:
    a = sim.create_auction("Lens", "20.00", 600, buy_it_now="75.00")
    manual_bid(sim, a["legacy_item_id"], "x", "25.00")
    state = httpx.post(f"{sim.base_url}/_sim/auctions/{a['legacy_item_id']}/end", json={}).json()
    assert state["ended_by"] == "seller"
    assert state["winner"] == "x"
    assert state["final_price"] == "20.00"


# --- property: the proxy rule over random bid sequences (in-process, on the auction logic) ----------


@settings(max_examples=150, deadline=None)
@given(
    start=st.integers(min_value=1, max_value=20000),
    bids=st.lists(st.tuples(st.sampled_from("abcde"), st.integers(min_value=1, max_value=40000)), max_size=12),
)
def test_proxy_rule_property(start: int, bids: list[tuple[str, int]]) -> None:
    world = World(SimClock(), seed=1)
    a = world.create_auction(
        title="p", start_minor=start, currency="USD", marketplace="EBAY_US", ends_in=100.0, watched_by=[],
        rivals=[], reserve_minor=None, bin_minor=None, image_url=None, shipping_minor=0,
    )
    t0 = world.clock.now()
    maxes: dict[str, tuple[int, int]] = {}
    for i, (bidder, mx) in enumerate(bids):
        outcome = world.place_bid(a, bidder, mx, t0 + i * 0.001, "USD")
        if outcome.error_id is None:
            maxes[bidder] = (mx, i)
    ranked = sorted(maxes.items(), key=lambda kv: (-kv[1][0], kv[1][1]))
    world.clock.offset_s = 101
    end = world.clock.now()
    if not ranked:
        assert a.winner(end) is None
        return
    top_bidder, (top, _) = ranked[0]
    if len(ranked) == 1:
        expected = start
    else:
        second = ranked[1][1][0]
        expected = min(top, second + inc(second))
    assert a.winner(end) == top_bidder
    price = a.final_price(end)
    assert price == expected
    assert start <= price <= top


# --- Trading GetMyeBayBuying ------------------------------------------------------------------------


def trading(srv: SimulatorServer, token: str, body: str, call: str = "GetMyeBayBuying") -> Element:
    xml = ('<?xml version="1.0" encoding="utf-8"?><GetMyeBayBuyingRequest xmlns="urn:ebay:apis:eBLBaseComponents">'
           + body + "</GetMyeBayBuyingRequest>")
    r = httpx.post(srv.trading_url, content=xml.encode(), headers={
        "X-EBAY-API-CALL-NAME": call, "X-EBAY-API-SITEID": "0", "X-EBAY-API-COMPATIBILITY-LEVEL": "1349",
        "X-EBAY-API-IAF-TOKEN": token, "Content-Type": "text/xml"})
    assert r.status_code == 200
    root: Element = ElementTree.fromstring(r.content)
    assert root.find("e:Timestamp", NS) is not None
    return root


def text(node: Element, path: str) -> str:
    found = node.find(path, NS)
    assert found is not None, path
    assert found.text is not None, path
    # eBay wraps values in whitespace at will; what they mean is the stripped text.
    return found.text.strip()


WATCH = ("<WatchList><Include>true</Include><Sort>TimeLeft</Sort><Pagination><EntriesPerPage>200</EntriesPerPage>"
         "<PageNumber>{page}</PageNumber></Pagination></WatchList>")


def test_watch_list_fields_and_pagination(sim: SimulatorServer) -> None:
    first = sim.create_auction("Soonest & best", "3.00", 100, watched_by=["demo"], buy_it_now="9.00",
                               shipping="2.00")
    for i in range(404):
        sim.create_auction(f"Item {i}", "1.00", 200 + i, watched_by=["demo"])
    token = user_token(sim)
    root = trading(sim, token, WATCH.format(page=1))
    assert text(root, "e:Ack") == "Success"
    items = root.findall("e:WatchList/e:ItemArray/e:Item", NS)
    assert len(items) == 200
    assert text(root, "e:WatchList/e:PaginationResult/e:TotalNumberOfEntries") == "400"  # eBay's cap
    assert text(root, "e:WatchList/e:PaginationResult/e:TotalNumberOfPages") == "2"
    item = items[0]
    assert text(item, "e:ItemID") == first["legacy_item_id"]
    assert text(item, "e:Title") == "Soonest & best"
    assert text(item, "e:ListingType") == "Chinese"
    assert text(item, "e:ListingDetails/e:EndTime") == first["end_time"]
    price = item.find("e:SellingStatus/e:CurrentPrice", NS)
    assert price is not None
    assert price.get("currencyID") == "USD"
    assert text(item, "e:SellingStatus/e:CurrentPrice") == "3.0"  # as eBay writes amounts
    assert text(item, "e:SellingStatus/e:BidCount") == "0"
    assert text(item, "e:TimeLeft").startswith("PT1M")
    assert text(item, "e:BuyItNowPrice") == "9.0"
    assert text(item, "e:PictureDetails/e:GalleryURL").startswith(sim.base_url)
    page2 = trading(sim, token, WATCH.format(page=2)).findall("e:WatchList/e:ItemArray/e:Item", NS)
    assert len(page2) == 200


def test_won_and_lost_lists(sim: SimulatorServer) -> None:
    won = sim.create_auction("Won thing", "5.00", 50, watched_by=["demo"])
    lost = sim.create_auction("Lost thing", "5.00", 50, rivals=[{"max": "40.00", "before_end": 2, "user": "r"}])
    manual_bid(sim, won["legacy_item_id"], "demo", "10.00")
    manual_bid(sim, lost["legacy_item_id"], "demo", "20.00")
    token = user_token(sim)
    sim.set_clock_offset(60)
    body = ("<WonList><Include>true</Include><DurationInDays>60</DurationInDays></WonList>"
            "<LostList><Include>true</Include><DurationInDays>60</DurationInDays></LostList>")
    root = trading(sim, token, body)
    won_items = root.findall("e:WonList/e:OrderTransactionArray/e:OrderTransaction/e:Transaction/e:Item", NS)
    assert [text(i, "e:ItemID") for i in won_items] == [won["legacy_item_id"]]
    assert text(won_items[0], "e:TimeLeft") == "PT0S"
    lost_items = root.findall("e:LostList/e:ItemArray/e:Item", NS)
    assert [text(i, "e:ItemID") for i in lost_items] == [lost["legacy_item_id"]]
    assert text(lost_items[0], "e:SellingStatus/e:CurrentPrice") == "20.5"


def test_trading_token_errors(sim: SimulatorServer) -> None:
    root = trading(sim, "garbage", WATCH.format(page=1))
    assert text(root, "e:Ack") == "Failure"
    assert text(root, "e:Errors/e:ErrorCode") == "21916984"
    token = user_token(sim)
    httpx.post(sim.base_url + "/_sim/tokens/expire", json={"user": "demo"})
    root = trading(sim, token, WATCH.format(page=1))
    assert text(root, "e:Ack") == "Failure"
    assert text(root, "e:Errors/e:ErrorCode") == "21917053"
    assert text(root, "e:Errors/e:SeverityCode") == "Error"


def test_demo_scenario_is_believable() -> None:
    with SimulatorServer(scenario="demo", sntp_port=None) as demo:
        token = user_token(demo)
        items = trading(demo, token, WATCH.format(page=1)).findall("e:WatchList/e:ItemArray/e:Item", NS)
        assert 12 <= len(items) <= 20
        ends = [text(i, "e:ListingDetails/e:EndTime") for i in items]
        assert ends == sorted(ends)
        auctions = httpx.get(demo.base_url + "/_sim/auctions").json()["auctions"]
        spans = [a["end_epoch"] - demo.now() for a in auctions]
        assert min(spans) < 300
        assert max(spans) > 86400
        assert len({a["title"] for a in auctions}) == len(auctions)
        image = httpx.get(text(items[0], "e:PictureDetails/e:GalleryURL"))
        assert image.headers["content-type"] == "image/png"
        assert image.content.startswith(b"\x89PNG")
