"""The engine's real outcomes become emails: a snipe won against the simulator is emailed through the
simulator's Postmark endpoint with the price, the saving and the timing record of the fire."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sniper_app.ebay import SecretStore
from sniper_app.engine.bus import AuctionEndingSoon
from sniper_app.engine.notifications import NotifierHandle
from sniper_app.notify import Notice, NoticeKind
from sniper_app.simulator import SimulatorServer
from tests.support.engine import rig, wait_status
from tests.support.wait import wait_until_async


def test_a_won_snipe_is_emailed_and_shown_in_the_tray(sim: SimulatorServer, tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            settings = r.settings.model_copy(update={
                "notify_email": True, "email_backend": "postmark", "postmark_url": sim.base_url,
                "email_to": "me@example.com", "notify_email_types": ["BID_WON"],
                "notify_tray_types": ["BID_PLACED", "BID_WON", "AUCTION_ENDING"],
            })
            secrets = SecretStore("simulator", environ={"SNIPER_POSTMARK_TOKEN": "POSTMARK_API_TEST"})
            handle = NotifierHandle(settings, r.store, r.bus, secrets, retry_delays=(0.05,))
            shown: list[Notice] = []
            handle.tray.set_sink(shown.append)
            await handle.start()
            auction = sim.create_auction("Leica <M3> & lens", "10.00", ends_in=5.0,
                                         rivals=[{"max": "20.00", "before_end": 3.0}])
            auction["title"] = "Leica <M3> & lens"  # the control API's reply does not echo it
            pk = r.snipe(auction, "40.00", lead=1.0)
            async with r.running():
                won = await wait_status(r, pk, {"WON", "LOST", "FAILED", "MISSED"}, 12)
                assert won.status == "WON", won.status_reason
                await wait_until_async(lambda: len(sim.emails()) == 1, 10, "the email about the win")
                r.bus.publish(AuctionEndingSoon(snipe_id=pk, ends_at=won.end_time))
                await handle.stop()
            kinds = [n.kind for n in shown]
            assert NoticeKind.BID_PLACED in kinds
            assert NoticeKind.BID_WON in kinds
            assert kinds[-1] is NoticeKind.AUCTION_ENDING  # in the tray only: not in the email types
            assert len(sim.emails()) == 1
            # The ending's outcome is the notice's body, in the tray as in the email.
            won_notice = next(n for n in shown if n.kind is NoticeKind.BID_WON)
            sentence = "Won at $20.50, saving $19.50 below your maximum of $40.00."
            assert (won_notice.outcome_code, won_notice.outcome) == ("won", sentence)
            assert won_notice.tray_title == "You won: Leica <M3> & lens"
            assert won_notice.body() == f"{sentence} Pay on eBay as usual."
            assert sentence in sim.emails()[0]["TextBody"]

        mail = sim.emails()[0]
        assert mail["Subject"] == "You won: Leica <M3> & lens for $20.50"
        assert "Leica &lt;M3&gt; &amp; lens" in mail["HtmlBody"]
        text = mail["TextBody"]
        assert "Your maximum:    $40.00" in text
        assert "Final price:     $20.50" in text
        assert "Below maximum:   $19.50" in text
        assert "s before the end; eBay replied" in text  # the timing record of the fire

    asyncio.run(main())
