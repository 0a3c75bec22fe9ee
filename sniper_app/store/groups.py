"""The store's snipe groups."""

from __future__ import annotations

from sniper_app.domain.errors import RuleViolation
from sniper_app.domain.status import SnipeStatus
from sniper_app.domain.text import check_group_name, check_group_wins
from sniper_app.store.base import StoreBase
from sniper_app.store.errors import NotFound
from sniper_app.store.models import Snipe, SnipeGroup


class GroupStore(StoreBase):
    """Snipe groups: "win N of these"."""

    def create_group(self, user_id: int, name: str, *, target_wins: int = 1) -> SnipeGroup:
        name = check_group_name(name)
        target_wins = check_group_wins(target_wins)
        with self._write():
            self.get_user(user_id)
            if self.find_group(user_id, name) is not None:
                raise RuleViolation(f"A group named “{name}” already exists.")
            group: SnipeGroup = SnipeGroup.create(
                user=user_id, name=name, target_wins=target_wins, created_at=self.now()
            )
            return group

    def get_group(self, group_id: int) -> SnipeGroup:
        group = SnipeGroup.get_or_none(SnipeGroup.id == group_id)
        if group is None:
            raise NotFound(f"There is no snipe group #{group_id}.")
        return group

    def _group_of_user(self, group_id: int, user_id: int) -> SnipeGroup:
        group = self.get_group(group_id)
        if group.user_id != user_id:
            raise NotFound(f"There is no snipe group #{group_id}.")
        return group

    def find_group(self, user_id: int, name: str) -> SnipeGroup | None:
        """The user's group called ``name`` (case-insensitive)."""
        return SnipeGroup.get_or_none((SnipeGroup.user == user_id) & (SnipeGroup.name == name.strip()))

    def list_groups(self, user_id: int) -> list[SnipeGroup]:
        return list(SnipeGroup.select().where(SnipeGroup.user == user_id).order_by(SnipeGroup.name))

    def group_members(self, group_id: int) -> list[Snipe]:
        return self.list_snipes(group_id=group_id)

    def group_won_count(self, group_id: int) -> int:
        return int(Snipe.select().where((Snipe.group == group_id) & (Snipe.status == SnipeStatus.WON.value)).count())
