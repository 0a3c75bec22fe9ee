"""What the window needs to know about where secrets are kept: whether to ask for a passphrase, and
unlocking the encrypted secrets file with one. The front end reaches the vaults only through here."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sniper_app.ebay import SecretStore
from sniper_app.ebay.secretfile import SECRETS_FILE, SecretsFileError
from sniper_app.ebay.vaults import choose_vault, passphrase_helps, passphrase_vault, wants_passphrase

__all__ = ["SecretsFileError", "needs_passphrase", "passphrase_helps", "secrets_file_exists", "unlock_with_passphrase"]


async def needs_passphrase(data_dir: Path, *, demo: bool) -> bool:
    """Whether this start has neither a usable keyring nor a key, so only a typed passphrase can keep the
    sign-in (never in the demo, whose simulated sign-in stays in its own folder)."""
    if demo:
        return False
    return wants_passphrase(await asyncio.to_thread(choose_vault, data_dir))


def secrets_file_exists(data_dir: Path) -> bool:
    return (data_dir / SECRETS_FILE).exists()


async def unlock_with_passphrase(secrets: SecretStore, data_dir: Path, passphrase: str) -> None:
    """From now on keep ``secrets`` in the encrypted file under ``passphrase``; SecretsFileError when it does
    not open the file that is there."""
    choice = await asyncio.to_thread(passphrase_vault, data_dir, passphrase)
    secrets.use_vault(choice.vault)
