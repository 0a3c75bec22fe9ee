"""The daily summary: once a day after the chosen hour, the day's outcomes in one notice, and only when
the user switched it on."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sniper_app.notify import Notice, NoticeKind
from tests.support.notify import add_snipe, email_settings, finish, notify_rig


def test_the_daily_summary_lists_the_days_outcomes_once(tmp_path: Path) -> None:
    soon = (datetime.now().astimezone() + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    settings = email_settings(tmp_path, notify_summary_hour=soon.hour,
                              notify_tray_types=["DAILY_SUMMARY"], notify_email_types=[])

    async def main() -> None:
        async with notify_rig(settings) as rig:
            shown: list[Notice] = []
            rig.handle.tray.set_sink(shown.append)
            won = add_snipe(rig.store, "Leica M3")
            finish(rig, won, "WON", 31_250)
            finish(rig, add_snipe(rig.store, "Fender Stratocaster"), "LOST", 90_000)
            assert not rig.handle.send_summary_if_due(soon.astimezone(UTC) - timedelta(hours=1))  # too early
            assert rig.handle.send_summary_if_due(soon.astimezone(UTC))
            assert not rig.handle.send_summary_if_due(soon.astimezone(UTC) + timedelta(minutes=5))  # once a day
            assert [n.kind for n in shown] == [NoticeKind.DAILY_SUMMARY]
            assert shown[0].lines == ("Won: Leica M3 at $312.50", "Lost: Fender Stratocaster at $900.00")

            rig.handle.reconfigure(settings.model_copy(update={"notify_tray_types": ["BID_WON"]}))
            assert not rig.handle.send_summary_if_due(soon.astimezone(UTC) + timedelta(days=1))

    asyncio.run(main())
