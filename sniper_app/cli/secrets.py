"""``sniper-app secrets``: make a key for the encrypted secrets file and say which store is in use and why."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sniper_app.cli.context import say_this_computer
from sniper_app.cli.parsing import CommandParser, json_flag, missing_action
from sniper_app.domain.errors import InputError, SniperError
from sniper_app.ebay.secretfile import CREDENTIAL_NAME, KEY_ENV, KEY_FILE_ENV, SECRETS_FILE, new_key

if TYPE_CHECKING:
    from sniper_app.cli.output import Output

_STORE_NAMES = {
    "keyring": "the OS keyring",
    "file": "the encrypted secrets file",
    "demo": "the demo's own data folder",
}


def store_in_use(data_dir: Path, *, demo: bool) -> tuple[dict[str, Any], str]:
    """Which store keeps the secrets, as data and as a few words, for ``diagnostics`` (never a secret)."""
    from sniper_app.ebay.vaults import choose_vault

    choice = choose_vault(data_dir, demo=demo)
    name = _STORE_NAMES.get(choice.store, "none usable")
    return choice.as_dict(), name + (f" ({choice.path})" if choice.path is not None else "")


class NoSecretStore(SniperError):
    """``secrets status`` found no store the app can use; the message says why."""


def add_commands(sub: Any) -> None:
    """The ``secrets`` command group."""
    secrets = sub.add_parser("secrets", help="where the eBay sign-in and other secrets are kept")
    secrets_sub = secrets.add_subparsers(dest="secrets_command", metavar="ACTION", parser_class=CommandParser)
    secrets.set_defaults(handler=missing_action(secrets))
    init = secrets_sub.add_parser(
        "init", help="make a key for the encrypted secrets file (for machines without an OS keyring)"
    )
    init.add_argument("--key-file", metavar="PATH", help="write the key to this new file (0600) instead of printing it")
    json_flag(init)
    init.set_defaults(handler=_secrets_init)
    status = secrets_sub.add_parser("status", help="which store keeps the secrets, and why")
    json_flag(status)
    status.set_defaults(handler=_secrets_status)


def _settings(args: argparse.Namespace) -> Any:
    from sniper_app.app import running_demo_settings
    from sniper_app.config import load_settings

    return running_demo_settings() if args.demo else load_settings()


def _secrets_init(args: argparse.Namespace, out: Output) -> int:
    data_dir: Path = _settings(args).resolved_data_dir()
    existing = data_dir / SECRETS_FILE
    if existing.exists():
        raise InputError(
            f"An encrypted secrets file already exists at {existing}, and a new key could not open it; keep "
            "giving the key it was made with ('sniper-app secrets status' checks it)."
        )
    key = new_key()
    if args.key_file:
        path = Path(args.key_file).expanduser().absolute()
        try:
            # A fresh box has no ~/.config/sniper-app yet, and the README names the key file there.
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"The folder {path.parent} cannot be made for the key: {exc.strerror or exc}.") from None
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise InputError(f"{path} already exists; name a new file for the key.") from None
        except OSError as exc:
            raise InputError(f"The key file {path} cannot be created: {exc.strerror}.") from None
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(key + "\n")
        env_line = f"{KEY_FILE_ENV}={path}"
        credential = str(path)
        first = [f"A new key for the encrypted secrets file is in {path} (keep a copy somewhere safe: without it",
                 "the file cannot be opened). Give it to the app in one of these ways:"]
    else:
        env_line = f"{KEY_ENV}={key}"
        credential = f"/etc/credstore/{CREDENTIAL_NAME}"
        first = ["A new key for the encrypted secrets file (keep a copy somewhere safe: without it the file cannot",
                 "be opened). Give it to the app in one of these ways:"]
    systemd_line = f"LoadCredential={CREDENTIAL_NAME}:{credential}"
    lines = [
        *first,
        "  - in the environment, or as this line in an environment file (mode 0600) that your service loads:",
        f"      {env_line}",
        "  - as a systemd credential: "
        + ("" if args.key_file else f"save the key alone in {credential} (readable by root only), then ")
        + "add to the [Service] section:",
        f"      {systemd_line}",
        "The app uses the file only where no OS keyring is usable; 'sniper-app secrets status' shows which.",
    ]
    data = {"env_line": env_line, "systemd_line": systemd_line, "key_file": credential if args.key_file else None}
    if not args.key_file:
        data["key"] = key
    out.result(data, "\n".join(lines))
    say_this_computer(args, out, "This key is for the secrets file of")
    return 0


def _secrets_status(args: argparse.Namespace, out: Output) -> int:
    from sniper_app.ebay.secretfile import EncryptedFileVault
    from sniper_app.ebay.vaults import UnavailableVault, choose_vault

    choice = choose_vault(_settings(args).resolved_data_dir(), demo=args.demo)
    if isinstance(choice.vault, UnavailableVault):
        raise NoSecretStore(choice.reason)
    if isinstance(choice.vault, EncryptedFileVault):
        choice.vault.check()  # a wrong key or a damaged file says so now, not at the first sign-in
    where = _STORE_NAMES[choice.store] + (f" ({choice.path})" if choice.path is not None else "")
    out.result(choice.as_dict(), f"Secrets are kept in {where},\nbecause {choice.reason}.")
    say_this_computer(args, out, "This is the secret store of")
    return 0
