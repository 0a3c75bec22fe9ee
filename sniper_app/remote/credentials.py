"""The desktop's link to its box (address, pin, token), kept in the app's secret store: the OS keyring or
the encrypted secrets file, never the database, settings or logs.

One entry holds all three, so the token is never found without the pin it was issued behind. It lives under
its own service, apart from the per-environment eBay entries, since a box is not tied to an eBay environment.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sniper_app.domain.redact import redactor
from sniper_app.ebay import SecretStore
from sniper_app.remote.invite import Address, InviteError, parse_address

SERVICE = "sniper-app/remote"
_ENTRY = "box"


@dataclass(frozen=True)
class RemoteLink:
    address: Address
    fingerprint: str
    token: str = field(repr=False)

    def to_json(self) -> str:
        return json.dumps({"address": str(self.address), "fingerprint": self.fingerprint, "token": self.token})

    @classmethod
    def from_json(cls, text: str) -> RemoteLink | None:
        try:
            data: Any = json.loads(text)
            link = cls(parse_address(data["address"]), str(data["fingerprint"]), data["token"])
        except (ValueError, KeyError, TypeError, InviteError):
            return None
        if not isinstance(link.token, str) or not link.token:
            return None
        redactor.add_secret(link.token)
        return link


def load_link(secrets: SecretStore) -> RemoteLink | None:
    raw = secrets.vault.get(SERVICE, _ENTRY)
    return RemoteLink.from_json(raw) if raw else None


def save_link(secrets: SecretStore, link: RemoteLink) -> None:
    redactor.add_secret(link.token)
    secrets.vault.set(SERVICE, _ENTRY, link.to_json())


def forget_link(secrets: SecretStore) -> None:
    secrets.vault.delete(SERVICE, _ENTRY)


async def aload_link(secrets: SecretStore) -> RemoteLink | None:
    return await asyncio.to_thread(load_link, secrets)


async def asave_link(secrets: SecretStore, link: RemoteLink) -> None:
    await asyncio.to_thread(save_link, secrets, link)


async def aforget_link(secrets: SecretStore) -> None:
    await asyncio.to_thread(forget_link, secrets)


# Beside the secret, a plain note in the data folder that this desktop drives a box (its address and pin,
# no token): every command asks it first, so a desktop that never connected never opens its secret store
# for it (a keyring prompt, or a damaged secrets file met by a command that does not need it).
MARKER_FILE = "remote-box.json"


def mark_connected(data_dir: Path, link: RemoteLink) -> None:
    from sniper_app.paths import write_private_json

    write_private_json(data_dir / MARKER_FILE, {"address": str(link.address), "fingerprint": link.fingerprint})


def unmark(data_dir: Path) -> None:
    (data_dir / MARKER_FILE).unlink(missing_ok=True)


def marked_box(data_dir: Path) -> str | None:
    """The box this data folder's desktop drives, by address, or None when it drives none."""
    try:
        data = json.loads((data_dir / MARKER_FILE).read_text(encoding="utf-8"))
        return str(parse_address(str(data["address"])))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, InviteError):
        # Unreadable: still connected for all we know; the secret store's entry decides.
        return "the box this computer was connected to"
