"""The store's profiles: the local user and the eBay account linked to it."""

from __future__ import annotations

from typing import Any, Final

from sniper_app.domain.history import HistoryAction
from sniper_app.store.base import StoreBase
from sniper_app.store.errors import NotFound
from sniper_app.store.models import User

USER_FIELDS: Final = frozenset(
    {
        "ebay_username",
        "ebay_user_id",
        "marketplace",
        "needs_relink",
        "active",
    }
)


class UserStore(StoreBase):
    """Local profiles and the eBay account each one links."""

    def get_or_create_user(self, *, ebay_user_id: str | None = None, marketplace: str = "EBAY_US") -> User:
        """The profile linked to ``ebay_user_id``, else the first active profile, else a new one."""
        with self._write():
            user: User | None = None
            if ebay_user_id is not None:
                user = User.get_or_none(User.ebay_user_id == ebay_user_id)
            if user is None:
                user = User.select().where(User.active == True).order_by(User.id).first()  # noqa: E712
            if user is None:
                now = self.now()
                user = User.create(
                    ebay_user_id=ebay_user_id,
                    marketplace=marketplace,
                    created_at=now,
                    updated_at=now,
                )
            return user

    def get_user(self, user_id: int) -> User:
        user = User.get_or_none(User.id == user_id)
        if user is None:
            raise NotFound(f"There is no local profile #{user_id}.")
        return user

    def update_user(self, user_id: int, **fields: Any) -> User:
        unknown = set(fields) - USER_FIELDS
        if unknown:
            raise TypeError(f"cannot set user field(s): {', '.join(sorted(unknown))}")
        with self._write():
            self.get_user(user_id)
            if fields:
                fields["updated_at"] = self.now()
                User.update(fields).where(User.id == user_id).execute()
            return self.get_user(user_id)

    def link_ebay_account(self, user_id: int, *, ebay_username: str, ebay_user_id: str | None) -> User:
        """Remember which eBay account is linked (its tokens live in the keyring) and clear re-link."""
        with self._write():
            user = self.update_user(user_id, ebay_username=ebay_username, ebay_user_id=ebay_user_id, needs_relink=False)
            self._event(HistoryAction.ACCOUNT, message=f"eBay account {ebay_username} linked.")
            return user

    def set_needs_relink(self, user_id: int, needs: bool, *, reason: str | None = None) -> User:
        with self._write():
            before = self.get_user(user_id).needs_relink
            user = self.update_user(user_id, needs_relink=needs)
            if needs and not before:
                self._event(
                    HistoryAction.ACCOUNT,
                    message=reason or "The eBay account must be linked again.",
                )
            return user
