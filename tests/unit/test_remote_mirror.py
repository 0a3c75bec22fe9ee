"""The window's mirror of a box's facade, without a box: its shape and what it answers before any read."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sniper_app.config import Settings
from sniper_app.domain.errors import NoSuchSnipe
from sniper_app.domain.status import SnipeStatus
from sniper_app.engine.bus import AccountStateChanged, SnipeStatusChanged, WatchlistSynced
from sniper_app.engine.service import SniperService
from sniper_app.remote.box import event_data
from sniper_app.remote.client import RemoteClient
from sniper_app.remote.invite import parse_address
from sniper_app.remote.mirror import NotFromTheBox, RemoteMirror, event_of
from sniper_app.remote.service import RemoteService


def _mirror(tmp_path: Path) -> RemoteMirror:
    client = RemoteClient(parse_address("127.0.0.1:9"), "00" * 32, "token")
    return RemoteMirror(RemoteService(client), Settings(data_dir=tmp_path), user_id=1, data_dir=tmp_path)


def test_every_public_member_of_the_local_facade_is_answered_by_the_mirror() -> None:
    # The mirror skips the local facade's constructor (it has no store or engine): a member it did not
    # override would reach for one and fail in the window.
    public = {name for name, _ in inspect.getmembers(SniperService) if not name.startswith("_")}
    missing = sorted(name for name in public if name not in vars(RemoteMirror))
    assert missing == []


@pytest.mark.parametrize("event", [
    SnipeStatusChanged(snipe_id=7, old=SnipeStatus.SCHEDULED, new=SnipeStatus.WON, reason="Won for $12.00.",
                       at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
    WatchlistSynced(count=3, added=1, removed=0, at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
    AccountStateChanged(username="demo", state="needs_relink", message="Link again.",
                        at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
])
def test_a_box_event_arrives_as_the_event_it_was_on_the_box(event: object) -> None:
    message = event_data(event)  # type: ignore[arg-type]
    assert message is not None
    assert event_of(message) == event


def test_unknown_or_malformed_messages_are_dropped() -> None:
    assert event_of({"type": "NoSuchEvent"}) is None
    assert event_of({"type": "SnipeStatusChanged", "snipe_id": "seven"}) is None
    assert event_of({}) is None


def test_before_the_box_answers_the_mirror_shows_nothing_and_never_holds_snipes_back_from_quitting(
    tmp_path: Path,
) -> None:
    mirror = _mirror(tmp_path)
    assert mirror.snipes() == ()
    assert mirror.watch_items() == ()
    assert mirror.account().username is None
    assert mirror.find_snipe(1) is None
    with pytest.raises(NoSuchSnipe, match="There is no snipe #1"):
        mirror.get_snipe(1)
    assert mirror.pending_count() == 0  # quitting the window leaves the snipes to the box
    assert not mirror.keep_awake_failing()
    assert not mirror.link.connected
    assert mirror.link.stale
    assert "127.0.0.1:9" in mirror.ebay_address()
    with pytest.raises(NotFromTheBox, match="exposure has not been read yet"):
        mirror.exposure()
    with pytest.raises(NotFromTheBox, match="box's own cap"):
        mirror.exposure("USD 100", 30)
    with pytest.raises(NotFromTheBox, match="record has not been read yet"):
        mirror.record()
    with pytest.raises(NotFromTheBox, match="account link"):
        mirror.start_link()
    # The box keeps its own engine settings: nothing saved here waits for a restart.
    assert mirror.apply_settings(Settings(data_dir=tmp_path, default_lead_seconds=4.0)) == []
