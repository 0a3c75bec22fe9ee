"""A keyring backend for tests, selected with ``PYTHON_KEYRING_BACKEND``.

It persists to the JSON file named by ``SNIPER_TEST_KEYRING_FILE`` so that a CLI subprocess started by a
test sees the same secrets as the test itself. Never used outside the test suite.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class FileKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def _path(self) -> Path:
        return Path(os.environ["SNIPER_TEST_KEYRING_FILE"])

    def _load(self) -> dict[str, dict[str, str]]:
        try:
            data: dict[str, dict[str, str]] = json.loads(self._path().read_text())
        except FileNotFoundError:
            return {}
        return data

    def _save(self, data: dict[str, dict[str, str]]) -> None:
        tmp = self._path().with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(self._path())

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(service, {}).get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data.setdefault(service, {})[username] = password
        self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        try:
            del data[service][username]
        except KeyError:
            raise PasswordDeleteError("no such password") from None
        self._save(data)
