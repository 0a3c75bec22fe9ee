"""The spending cap, the exposure and the typo guard on the command line: real processes against the simulator."""

from __future__ import annotations

import json

import pytest

from tests.support.cli_sim import CliSim


@pytest.fixture
def linked(cli: CliSim) -> CliSim:
    cli.link()
    return cli


def _capped(cli: CliSim, cap: str) -> CliSim:
    cli.env = cli.env | {"SNIPER_SPENDING_CAP": cap}
    return cli


def _refusal(cli: CliSim, *args: str) -> str:
    result = cli.run(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    return result.stderr.strip()


def test_a_maximum_far_above_the_price_is_refused_without_confirm(linked: CliSim) -> None:
    item = linked.auction(start_price="40.00")
    assert _refusal(linked, "snipe", "add", item, "4000") == (
        "sniper-app: Your maximum of $4,000.00 is more than 5 times the current price of $40.00; check it is the "
        "amount you meant. Add --confirm if you meant it."
    )
    assert linked.ok_json("snipe", "list") == []
    error = json.loads(_refusal(linked, "snipe", "add", item, "4000", "--json"))
    assert error == {"error": "Your maximum of $4,000.00 is more than 5 times the current price of $40.00; check it "
                              "is the amount you meant. Add --confirm if you meant it.", "exit_code": 2}
    added = linked.ok_json("snipe", "add", item, "4000", "--confirm")
    assert added["snipe"]["max_bid"] == "4000.00"


def test_the_typo_guard_spares_small_amounts_and_guards_edits(linked: CliSim) -> None:
    item = linked.auction(start_price="3.00")
    # Five times 3.00 is below the floor: meant, not a typo.
    snipe = linked.ok_json("snipe", "add", item, "19.00")["snipe"]
    assert _refusal(linked, "snipe", "edit", str(snipe["id"]), "--max", "300") == (
        "sniper-app: Your maximum of $300.00 is more than 5 times the current price of $3.00; check it is the "
        "amount you meant. Add --confirm if you meant it."
    )
    assert linked.ok_json("snipe", "edit", str(snipe["id"]), "--max", "300", "--confirm")["snipe"]["max_bid"] == \
        "300.00"


def test_adding_past_the_cap_is_refused_with_its_numbers(linked: CliSim) -> None:
    _capped(linked, "100.00 USD")
    first = linked.auction(start_price="20.00")
    second = linked.auction(start_price="20.00")
    linked.ok_json("snipe", "add", first, "60.00")
    assert _refusal(linked, "snipe", "add", second, "50.00") == (
        "sniper-app: This would pass your spending cap of $100.00 for 30 days: $0.00 won and $60.00 pending leave "
        "$40.00, and it needs $50.00."
    )
    assert [s["item"] for s in linked.ok_json("snipe", "list")] == [first]
    error = json.loads(_refusal(linked, "snipe", "add", second, "50.00", "--json"))
    assert error["exit_code"] == 2
    assert error["error"].startswith("This would pass your spending cap of $100.00")
    linked.ok_json("snipe", "add", second, "40.00")  # exactly the room left


def test_an_edit_that_raises_past_the_cap_is_refused_and_one_down_passes(linked: CliSim) -> None:
    _capped(linked, "100.00 USD")
    snipe = linked.ok_json("snipe", "add", linked.auction(start_price="20.00"), "60.00")["snipe"]
    other = linked.ok_json("snipe", "add", linked.auction(start_price="20.00"), "30.00")["snipe"]
    assert _refusal(linked, "snipe", "edit", str(snipe["id"]), "--max", "75") == (
        "sniper-app: This would pass your spending cap of $100.00 for 30 days: $0.00 won and $30.00 pending leave "
        "$70.00, and it needs $75.00."
    )
    assert linked.ok_json("snipe", "edit", str(other["id"]), "--max", "25")["snipe"]["max_bid"] == "25.00"


def test_a_group_counts_only_its_largest_maxima_against_the_cap(linked: CliSim) -> None:
    _capped(linked, "100.00 USD")
    linked.ok_json("group", "add", "Lenses", "--wins", "1")
    for maximum in ("60.00", "70.00", "50.00"):
        linked.ok_json("snipe", "add", linked.auction(start_price="20.00"), maximum, "--group", "Lenses")
    # Win one of three: only the 70.00 counts, so 30.00 fits beside it and 31.00 does not.
    assert _refusal(linked, "snipe", "add", linked.auction(start_price="20.00"), "31.00") == (
        "sniper-app: This would pass your spending cap of $100.00 for 30 days: $0.00 won and $70.00 pending leave "
        "$30.00, and it needs $31.00."
    )
    linked.ok_json("snipe", "add", linked.auction(start_price="20.00"), "30.00")


def test_a_currency_without_a_cap_is_not_counted_and_says_so(linked: CliSim) -> None:
    _capped(linked, "10.00 GBP")
    added = linked.ok_json("snipe", "add", linked.auction(start_price="20.00"), "60.00")
    assert added["warnings"] == [
        "No spending cap is set for USD, so this snipe is not counted against one."
    ]


def test_exposure_per_currency_in_text_and_json(linked: CliSim) -> None:
    assert linked.run("exposure").stdout.strip() == (
        "Nothing pending and nothing won in the last 30 days; no spending cap is set."
    )
    _capped(linked, "300 usd")
    linked.ok_json("group", "add", "Pair", "--wins", "1")
    linked.ok_json("snipe", "add", linked.auction(start_price="20.00"), "60.00", "--group", "Pair")
    linked.ok_json("snipe", "add", linked.auction(start_price="20.00"), "80.00", "--group", "Pair")
    linked.ok_json("snipe", "add", linked.auction(start_price="20.00"), "25.50")
    linked.ok_json("snipe", "add", linked.auction(start_price="20.00", currency="GBP", marketplace="EBAY_GB"),
                   "30.00")
    result = linked.run("exposure")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines() == [
        "GBP: exposure £30.00, won in the last 30 days £0.00, no spending cap.",
        "USD: exposure $105.50, won in the last 30 days $0.00, cap $300.00, room left $194.50.",
    ]
    assert linked.ok_json("exposure") == {"period_days": 30, "currencies": [
        {"currency": "GBP", "exposure": "30.00", "shipping": "0.00", "won": "0.00", "cap": None, "room": None},
        {"currency": "USD", "exposure": "105.50", "shipping": "0.00", "won": "0.00", "cap": "300.00",
         "room": "194.50"},
    ]}


def test_a_maximum_that_fits_but_not_with_its_shipping_is_refused(linked: CliSim) -> None:
    _capped(linked, "100.00 USD")
    linked.ok_json("snipe", "add", linked.auction(start_price="20.00", shipping="7.50"), "50.00")
    item = linked.auction(start_price="10.00", shipping="5.00")
    # 40.00 fits in the 42.50 left; 40.00 plus 5.00 shipping does not.
    assert _refusal(linked, "snipe", "add", item, "40.00") == (
        "sniper-app: This would pass your spending cap of $100.00 for 30 days: $0.00 won and $57.50 pending "
        "including $7.50 shipping leave $42.50, and it needs $45.00 ($40.00 + $5.00 shipping)."
    )
    assert json.loads(_refusal(linked, "snipe", "add", item, "40.00", "--json"))["exit_code"] == 2
    # The same maximum with the shipping inside it fits, and then turning that off is refused like a raise.
    snipe = linked.ok_json("snipe", "add", item, "40.00", "--includes-shipping")["snipe"]
    assert _refusal(linked, "snipe", "edit", str(snipe["id"]), "--no-includes-shipping").endswith(
        "and it needs $45.00 ($40.00 + $5.00 shipping).")
    assert linked.run("exposure").stdout.strip() == (
        "USD: exposure $97.50 including $7.50 shipping, won in the last 30 days $0.00, cap $100.00, room left $2.50."
    )
    assert linked.ok_json("exposure")["currencies"] == [
        {"currency": "USD", "exposure": "97.50", "shipping": "7.50", "won": "0.00", "cap": "100.00", "room": "2.50"}]


@pytest.mark.parametrize(("field", "value", "sentence"), [
    ("spending_cap", "300 dollars", "sniper-app: Setting 'spending_cap' (from your change): Add a currency code to "
     "'300 dollars' in the spending cap, e.g. 300.00 USD, 250.00 GBP."),
    ("spending_cap", "300 USD, 20 usd", "sniper-app: Setting 'spending_cap' (from your change): The spending cap "
     "names USD twice; give one amount per currency."),
    ("spending_period_days", "0", "sniper-app: Setting 'spending_period_days' (from your change): The spending "
     "period must be a whole number of days from 1 to 366, not '0'."),
])
def test_config_set_refuses_a_bad_cap_or_period(cli: CliSim, field: str, value: str, sentence: str) -> None:
    assert _refusal(cli, "config", "set", field, value) == sentence


def test_config_set_saves_the_cap_in_its_canonical_form(cli: CliSim) -> None:
    assert cli.ok_json("config", "set", "spending_cap", "250 gbp, 300 USD") == {
        "spending_cap": "250.00 GBP, 300.00 USD"}
    assert cli.ok_json("config", "set", "spending_period_days", "7") == {"spending_period_days": 7}
    assert cli.ok_json("config", "set", "spending_cap", "") == {"spending_cap": ""}
