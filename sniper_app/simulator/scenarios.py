"""Seeded worlds: ``empty`` (only the demo user) and ``demo`` (a believable watch list for user demo)."""

from __future__ import annotations

from .money import parse_minor
from .world import DEMO_USER, World

# title, category, start, shipping, ends_in (s), rivals [(max, before_end)], buy_it_now, reserve, marketplace
_Row = tuple[str, str, str, str | None, float, list[tuple[str, float]], str | None, str | None, str]
_DEMO: list[_Row] = [
    ("Vintage Omega Seamaster automatic watch, 1968, serviced", "Jewelry & Watches", "120.00", "12.00",
     150, [("185.00", 4.0)], None, None, "EBAY_US"),
    ("Nintendo Game Boy Color - Atomic Purple, tested, working", "Video Games", "35.00", "6.50",
     330, [("52.00", 2.5)], None, None, "EBAY_US"),
    ("LEGO Star Wars 10179 Ultimate Collector's Millennium Falcon (complete)", "Toys & Hobbies", "450.00",
     "39.99", 900, [("610.00", 1.5), ("580.00", 3600.0)], None, "550.00", "EBAY_US"),
    ("Canon AE-1 Program 35mm film camera with 50mm f/1.8 lens", "Cameras & Photo", "60.00", "9.95",
     1800, [("94.50", 3.0)], "140.00", None, "EBAY_US"),
    ("First edition Dune by Frank Herbert, 1965 hardcover, Chilton", "Books", "900.00", "0.00",
     3600, [], None, "1500.00", "EBAY_US"),
    ("Fender Squier Classic Vibe '50s Stratocaster, Fiesta Red", "Musical Instruments", "210.00", "45.00",
     5400, [("265.00", 6.0)], None, None, "EBAY_US"),
    ("Apple iPod Classic 160GB 7th gen, silver, new battery", "Consumer Electronics", "80.00", "5.99",
     7200, [("118.00", 86400.0)], "160.00", None, "EBAY_US"),
    ("Pyrex Butterprint 4-piece mixing bowl set, turquoise on white", "Home & Garden", "40.00", "18.00",
     10800, [("63.00", 12000.0), ("71.00", 2.0)], None, None, "EBAY_US"),
    ("1oz 2021 American Silver Eagle BU coin in capsule", "Coins & Paper Money", "28.00", "4.50",
     14400, [], "42.00", None, "EBAY_US"),
    ("Mid-century teak sideboard, Danish design, 160 cm", "Antiques", "150.00", None,
     21600, [("260.00", 1.0)], None, None, "EBAY_GB"),
    ("Pokemon Base Set Charizard 4/102 holo, played condition", "Collectibles", "180.00", "3.99",
     28800, [("240.00", 5.0), ("232.00", 40000.0)], None, None, "EBAY_US"),
    ("Bose QuietComfort 35 II wireless headphones, black", "Consumer Electronics", "65.00", "8.00",
     43200, [], "130.00", None, "EBAY_US"),
    ("Original 1977 Star Wars movie poster, one-sheet, folded", "Entertainment Memorabilia", "300.00", "15.00",
     64800, [("420.00", 2.0)], None, "400.00", "EBAY_US"),
    ("Brompton M6L folding bike, black, 2019", "Sporting Goods", "600.00", None,
     86400, [("825.00", 3.5)], None, None, "EBAY_GB"),
    ("Leica Summicron-M 50mm f/2 lens, boxed", "Cameras & Photo", "900.00", "20.00",
     129600, [("1180.00", 1.2)], None, None, "EBAY_DE"),
    ("Hermès silk scarf 'Brides de Gala', 90 cm, with box", "Clothing, Shoes & Accessories", "95.00", "7.00",
     172800, [], None, None, "EBAY_US"),
    ("Roberts Revival DAB radio, duck egg blue, boxed", "Consumer Electronics", "45.00", "6.99",
     2700, [("68.00", 2.0)], None, None, "EBAY_GB"),
    ("Märklin H0 steam locomotive BR 01, digital, original box", "Toys & Hobbies", "140.00", "9.90",
     9000, [("176.00", 1.5)], None, None, "EBAY_DE"),
]
# Fixed-price listings a real watch list holds beside auctions: shown, never sniped.
# title, category, price, shipping, ends_in (s), marketplace
_DEMO_FIXED: list[tuple[str, str, str, str, float, str]] = [
    ("Kodak Portra 400 35mm film, 5-pack, dated 2027", "Cameras & Photo", "54.99", "4.00", 604800, "EBAY_US"),
    ("Moleskine Classic notebook, large, ruled, black", "Books", "17.50", "2.85", 1209600, "EBAY_GB"),
]
_CURRENCY = {"EBAY_US": "USD", "EBAY_GB": "GBP", "EBAY_DE": "EUR"}
# Listings whose seller gave no picture: eBay leaves image out of them.
_NO_PICTURE = frozenset({"First edition Dune by Frank Herbert, 1965 hardcover, Chilton"})
_SELLERS = ["vintage_finds_co", "retro_attic", "cameraworks_uk", "the_book_barn", "pixel_collectibles",
            "mapleleaf_deals", "secondlife_audio", "atelier_berlin"]


def seed(world: World, scenario: str) -> None:
    if scenario == "empty":
        return
    if scenario != "demo":
        raise ValueError(f"unknown scenario {scenario!r} (use demo or empty)")
    # A fixed-price listing is its price as Buy It Now, with no rivals and no reserve.
    fixed: list[_Row] = [(title, category, price, ship, ends_in, [], price, None, market)
                         for title, category, price, ship, ends_in, market in _DEMO_FIXED]
    for i, (title, category, start, ship, ends_in, rivals, bin_price, reserve, market) in enumerate(_DEMO + fixed):
        is_fixed = i >= len(_DEMO)
        auction = world.create_auction(
            title=title,
            start_minor=parse_minor(start),
            currency=_CURRENCY[market],
            marketplace=market,
            ends_in=ends_in,
            watched_by=[DEMO_USER],
            rivals=[(f"rival_{chr(97 + i)}{j}", parse_minor(mx), before) for j, (mx, before) in enumerate(rivals)],
            reserve_minor=parse_minor(reserve) if reserve else None,
            bin_minor=parse_minor(bin_price) if bin_price else None,
            image_url="" if title in _NO_PICTURE else None,
            shipping_minor=parse_minor(ship) if ship is not None else None,
            seller=_SELLERS[i % len(_SELLERS)],
            category=category,
            condition="Used" if i % 4 else "Pre-owned",
            fixed_price=is_fixed,
        )
        # A little existing activity so the list does not look freshly minted.
        if i % 3 == 1 and not is_fixed:
            world.place_bid(auction, f"early_bird{i}", auction.start_minor + 500, world.clock.now(),
                            auction.currency, "manual")
