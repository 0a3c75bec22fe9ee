"""A disk that fills up or fails while the engine snipes: every bid still goes out once, and the record ends true."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from peewee import OperationalError

from sniper_app.simulator import SimulatorServer
from sniper_app.store import Store
from sniper_app.store.errors import DiskFull
from sniper_app.store.models import HistoryEvent
from tests.support.engine import rig
from tests.support.wait import wait_until_async

DONE = {"WON", "LOST", "FAILED", "MISSED", "CANCELLED", "SKIPPED"}
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
FAULTS = ["database or disk is full", "disk I/O error"]


class FaultyDisk:
    """Fails a random share of the store's writes (statements and commits) the way SQLite reports it.

    The failure is raised where SQLite raises it, inside the transaction, so peewee and SQLite roll back
    exactly as they would on a real full disk.
    """

    def __init__(self, store: Store, share: float, seed: int) -> None:
        self.db = store.database
        self.share = share
        self.random = random.Random(seed)
        self.on = False
        self.failed = 0
        self._execute: Callable[..., Any] = self.db.execute_sql
        self._commit: Callable[[], Any] = self.db.commit

    def _maybe_fail(self) -> None:
        if self.on and self.random.random() < self.share:
            self.failed += 1
            raise OperationalError(self.random.choice(FAULTS))

    def _hit(self, sql: str, params: Any) -> bool:
        """Whether a write statement is one this disk fails (all of them, at the share's odds)."""
        return True

    def _faulty_execute(self, sql: str, params: Any = None, *args: Any, **kw: Any) -> Any:
        if sql.lstrip().upper().startswith(_WRITES) and self._hit(sql, params):
            self._maybe_fail()
        return self._execute(sql, params, *args, **kw)

    def _faulty_commit(self) -> Any:
        if self.db.in_transaction():
            self._maybe_fail()
        return self._commit()

    @contextmanager
    def installed(self) -> Iterator[FaultyDisk]:
        self.db.execute_sql = self._faulty_execute  # type: ignore[method-assign]
        self.db.commit = self._faulty_commit  # type: ignore[method-assign]
        try:
            yield self
        finally:
            del self.db.execute_sql
            del self.db.commit


class ArmingFails(FaultyDisk):
    """Fails every arming write (a snipe's PENDING → SCHEDULED) and nothing else, while it is on."""

    def __init__(self, store: Store) -> None:
        super().__init__(store, share=1.0, seed=0)

    def _hit(self, sql: str, params: Any) -> bool:
        values = list(params or ())
        return sql.lstrip().upper().startswith("UPDATE") and "SCHEDULED" in values and "PENDING" in values

    def _faulty_commit(self) -> Any:
        return self._commit()


def _history_is_whole(store: Store, pk: int, status: str) -> None:
    """Each status change and its event are one transaction: the last event of a snipe tells its status."""
    events = list(HistoryEvent.select().where(HistoryEvent.snipe == pk).order_by(HistoryEvent.at, HistoryEvent.id))
    with_status = [e for e in events if e.status is not None]
    assert with_status, f"snipe {pk} has no history"
    assert with_status[-1].status == status, [(e.action, e.status) for e in with_status]
    assert all(e.message for e in events)
    assert sum(1 for e in events if e.status == status and e.action == "WON") <= 1


@pytest.mark.parametrize("seed", [1, 2])
def test_a_failing_disk_loses_no_bid_and_leaves_a_true_record(
    sim: SimulatorServer, tmp_path: Path, seed: int
) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            auctions = [sim.create_auction(f"Lot {n}", "10.00", ends_in=6.0 + n * 0.7) for n in range(8)]
            pks = [r.snipe(a, "40.00", lead=1.0) for a in auctions]
            disk = FaultyDisk(r.store, share=0.3, seed=seed)
            with disk.installed():
                disk.on = True
                async with r.running():
                    last_end = max(float(a["end_epoch"]) for a in auctions)
                    await wait_until_async(lambda: sim.now() > last_end + 0.5, 20, "every auction to end")
                    disk.on = False  # the disk has room again
                    await wait_until_async(lambda: all(r.get(pk).status in DONE for pk in pks), 20,
                                   "every snipe to reach its outcome")
            assert disk.failed > 10  # the faults really hit the engine's writes
            # A restart finds the same truth and changes nothing.
            second = r.engine()
            await second.start()
            await asyncio.sleep(0)
            await second.stop()
            for auction, pk in zip(auctions, pks, strict=True):
                legacy = str(auction["legacy_item_id"])
                mine = [b for b in sim.auction(legacy)["bids"] if b["bidder"] == "demo"]
                assert len(mine) == 1, (pk, mine)  # none lost to the disk, none sent twice
                assert r.get(pk).status == "WON"
                _history_is_whole(r.store, pk, "WON")
            assert len(r.bids()) == len(auctions)

    asyncio.run(main())


def test_a_full_disk_refuses_a_change_with_a_sentence_and_writes_nothing(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        user = store.get_or_create_user()
        disk = FaultyDisk(store, share=1.0, seed=0)
        with disk.installed():
            disk.on = True
            with pytest.raises(DiskFull, match=r"is full( or failing)?, so the change was not saved"):
                store.create_group(user.id, "Lenses")
        assert store.list_groups(user.id) == []
        assert store.count_history() == 0


@pytest.mark.parametrize("disk_kind", ["arming", "every write"])
def test_a_disk_failing_from_the_arming_on_still_sends_the_bid_on_time(
    sim: SimulatorServer, tmp_path: Path, disk_kind: str
) -> None:
    """The arming write fails until the auction has ended (with every other write too, in the second case):
    the snipe is armed in memory, the bid arrives at its instant, and the record ends true once there is room."""
    lead = 1.0

    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            auction = sim.create_auction("Lot", "10.00", ends_in=5.0)
            pk = r.snipe(auction, "40.00", lead=lead)
            end = float(auction["end_epoch"])
            disk = ArmingFails(r.store) if disk_kind == "arming" else FaultyDisk(r.store, share=1.0, seed=3)
            with disk.installed():
                disk.on = True
                async with r.running():
                    await wait_until_async(lambda: sim.now() > end + 0.5, 20, "the auction to end")
                    assert r.get(pk).status == "PENDING"  # nothing of it reached the disk
                    disk.on = False
                    await wait_until_async(lambda: r.get(pk).status in DONE, 20, "the snipe to reach its outcome")
            assert disk.failed >= 2  # the arming write, then its retry (or the claim's own try)
            mine = [b for b in sim.auction(str(auction["legacy_item_id"]))["bids"] if b["bidder"] == "demo"]
            assert len(mine) == 1, mine
            assert end - lead - 0.5 < mine[0]["arrival_epoch"] < end  # at its instant, not after a retry
            assert r.get(pk).status == "WON"
            _history_is_whole(r.store, pk, "WON")
            statuses = [e.status for e in HistoryEvent.select().where(HistoryEvent.snipe == pk)
                        .order_by(HistoryEvent.at, HistoryEvent.id) if e.status is not None]
            assert statuses[statuses.index("SCHEDULED"):] == ["SCHEDULED", "PLACING", "PLACED", "WON"]

    asyncio.run(main())
