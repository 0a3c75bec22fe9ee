"""Email text: every kind renders from resources/, a hostile title is inert in HTML but readable in text,
and the subject stays on one line."""

from __future__ import annotations

import typing
from datetime import UTC, datetime, timedelta

import pytest

from sniper_app.config import NotifyType
from sniper_app.domain.money import Money
from sniper_app.domain.status import SnipeStatus
from sniper_app.engine.notifications import notice_for_snipe
from sniper_app.notify import EmailRenderer, Notice, NoticeKind, resources_dir
from sniper_app.store.models import Snipe

HOSTILE = '<script>alert("pwned")</script> <img src=x onerror=alert(1)> Leica & "Summicron"\nBcc: victim@example.com'


def won(title: str = "Leica M3", **kw: typing.Any) -> Notice:
    return Notice(
        kind=NoticeKind.BID_WON, title=title, snipe_id=7, item_url="https://www.ebay.com/itm/126001",
        image_url="https://i.ebayimg.com/images/126001.jpg", max_bid=Money.of("400.00", "USD"),
        final_price=Money.of("312.50", "USD"), timing="Sent 1.02 s before the end; eBay replied 81 ms later.",
        when=datetime(2026, 11, 23, 12, 0, tzinfo=UTC), **kw,
    )


def test_the_kinds_match_the_settings_names() -> None:
    assert {k.value for k in NoticeKind} == set(typing.get_args(NotifyType))


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_kind_renders_subject_text_and_html(kind: NoticeKind) -> None:
    renderer = EmailRenderer()
    renderer.check()
    notice = Notice(kind=kind, title="Fender Stratocaster 1978", max_bid=Money.of("900.00", "USD"),
                    final_price=Money.of("850.00", "USD"), item_url="https://www.ebay.com/itm/1",
                    reason="eBay said no.", lines=("Won: Fender for $850.00",), account="demo",
                    ends_at=datetime(2026, 11, 23, 13, 0, tzinfo=UTC))
    out = renderer.render(notice)
    assert out.subject
    assert "\n" not in out.subject
    assert notice.headline in out.text
    assert out.html.lstrip().startswith("<!DOCTYPE html>")
    assert (resources_dir() / "email" / f"{kind.value.lower()}.html").is_file()
    if kind not in (NoticeKind.ACCOUNT_NEEDS_RELINK, NoticeKind.DAILY_SUMMARY):
        assert "Fender Stratocaster 1978" in out.subject
        assert 'href="https://www.ebay.com/itm/1"' in out.html


def test_won_email_has_price_saving_timing_image_and_link() -> None:
    out = EmailRenderer().render(won())
    assert out.subject == "You won: Leica M3 for $312.50"
    for text in (out.text, out.html):
        assert "$400.00" in text
        assert "$312.50" in text
        assert "$87.50" in text  # below the maximum by
        assert "Sent 1.02 s before the end" in text
        assert "https://www.ebay.com/itm/126001" in text
    assert '<img src="https://i.ebayimg.com/images/126001.jpg"' in out.html


def test_hostile_title_is_escaped_in_html_and_plain_in_text() -> None:
    out = EmailRenderer().render(won(HOSTILE))
    assert "<script" not in out.html
    assert "<img src=x" not in out.html
    assert "onerror=alert(1)>" not in out.html
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in out.html
    assert "Leica &amp; &#34;Summicron&#34;" in out.html
    # The text part is not HTML: the reader sees the title as the seller typed it, on one line.
    assert '<script>alert("pwned")</script> <img src=x onerror=alert(1)> Leica & "Summicron" Bcc:' in out.text
    assert "&amp;" not in out.text
    assert "&lt;" not in out.text
    # A newline in the title cannot start a header of its own.
    assert "\n" not in out.subject
    assert "\r" not in out.subject
    assert out.subject.startswith('You won: <script>alert("pwned")</script>')


def test_only_web_links_become_links() -> None:
    notice = Notice(kind=NoticeKind.BID_LOST, title="x", item_url="javascript:alert(1)",
                    image_url="data:text/html,<b>", max_bid=Money.of("5.00", "USD"))
    out = EmailRenderer().render(notice)
    assert "javascript:" not in out.html
    assert "data:text" not in out.html
    assert "javascript:" not in out.text


def test_a_pound_listing_shows_ebays_dollar_conversion_beside_every_amount() -> None:
    # eBay last showed £600.00 as $769.23: the same rate puts £650.00 at $833.33 and £610.00 at $782.05.
    snipe = Snipe(id=9, legacy_item_id="226001", title="Brompton M6L", currency="GBP", max_bid_minor=65000,
                  final_price_minor=61000, current_price_minor=60000, converted_currency="USD",
                  converted_price_minor=76923, lead_seconds=5.0, status=SnipeStatus.WON.value,
                  end_time=datetime(2026, 11, 23, 12, 0, tzinfo=UTC) + timedelta(hours=1))
    notice = notice_for_snipe(snipe, NoticeKind.BID_WON)
    assert notice.final_price == Money.of("610.00", "GBP")
    assert notice.tray_title == "You won: Brompton M6L"
    assert notice.body() == (
        "Final price £610.00 ≈ $782.05, £40.00 below your maximum of £650.00 ≈ $833.33. Pay on eBay as usual."
    )
    out = EmailRenderer().render(notice)
    assert out.subject == "You won: Brompton M6L for £610.00 ≈ $782.05"
    for text in (out.text, out.html):
        assert "£650.00 ≈ $833.33" in text
        assert "£40.00" in text  # the saving stays in the listing's own currency
    # Without a conversion from eBay, nothing is guessed.
    plain = notice_for_snipe(Snipe(**{**snipe.__data__, "converted_price_minor": None}), NoticeKind.BID_WON)
    assert plain.body().startswith("Final price £610.00, £40.00 below your maximum of £650.00.")


# The reasons the engine really records for each outcome (decisions.py), so the notices are tried with
# the sentences that used to be printed twice.
ENGINE_REASONS: dict[NoticeKind, str | None] = {
    NoticeKind.BID_PLACED: "eBay accepted the bid of $190.00.",
    NoticeKind.BID_WON: "Won for $187.50.",
    NoticeKind.BID_LOST: "Lost: the auction ended at $195.00.",
    NoticeKind.BID_FAILED: "eBay refused the bid: the auction has ended.",
    NoticeKind.BID_MISSED: "eBay never got this bid; the auction has ended.",
    NoticeKind.AUCTION_ENDING: None,
    NoticeKind.ACCOUNT_NEEDS_RELINK: "eBay refused the stored sign-in.",
    NoticeKind.DAILY_SUMMARY: None,
    NoticeKind.SNIPE_AT_RISK: "Your maximum is below the current price of $200.00.",
}


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in text.replace(" — ", ". ").replace("\n", ". ").split(". ") if s.strip(" .")]


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_notice_has_a_title_and_a_different_body_that_never_repeats_itself(kind: NoticeKind) -> None:
    final = Money.of("195.00" if kind is NoticeKind.BID_LOST else "187.50", "USD")
    notice = Notice(
        kind=kind, title="Millennium Falcon", snipe_id=4, max_bid=Money.of("190.00", "USD"),
        final_price=final if kind in (NoticeKind.BID_WON, NoticeKind.BID_LOST) else None,
        reason=ENGINE_REASONS[kind], ends_at=datetime(2026, 11, 23, 12, 0, tzinfo=UTC), account="buyer1",
        lines=("Won: Falcon at $187.50", "Lost: Lego at $20.00") if kind is NoticeKind.DAILY_SUMMARY else (),
    )
    title, body = notice.tray_title, notice.body()
    assert title.startswith(notice.headline)
    if kind is not NoticeKind.DAILY_SUMMARY and kind is not NoticeKind.ACCOUNT_NEEDS_RELINK:
        assert "Millennium Falcon" in title
    assert body
    assert body != title
    sentences = _sentences(body)
    assert len(sentences) == len(set(sentences)), body
    # Each amount is said once in the body: a second "$187.50" is the old "Won for … — Won for …".
    for amount in ("$187.50", "$190.00", "$195.00"):
        assert body.count(amount) <= 1, body
    if notice.final_price is not None:
        assert notice.final_price.format() in body
    # The email's opening paragraph does not say the same thing twice either.
    text = EmailRenderer().render(notice).text
    opening = text.split("\n\n")[1].split("\n")[0]
    assert len(_sentences(opening)) == len(set(_sentences(opening))), opening
    for amount in ("$187.50", "$190.00", "$195.00"):
        assert opening.count(amount) <= 1, opening


def test_the_won_and_placed_notices_read_as_a_person_would_write_them() -> None:
    won_notice = Notice(kind=NoticeKind.BID_WON, title="Millennium Falcon", max_bid=Money.of("190.00", "USD"),
                        final_price=Money.of("187.50", "USD"), reason="Won for $187.50.")
    assert won_notice.tray_title == "You won: Millennium Falcon"
    assert won_notice.body() == "Final price $187.50, $2.50 below your maximum of $190.00. Pay on eBay as usual."
    placed = Notice(kind=NoticeKind.BID_PLACED, title="Millennium Falcon", max_bid=Money.of("190.00", "USD"),
                    reason="eBay accepted the bid of $190.00.")
    assert placed.tray_title == "Bid placed: Millennium Falcon"
    assert placed.body() == "eBay holds your maximum of $190.00. You will hear how it ends."
