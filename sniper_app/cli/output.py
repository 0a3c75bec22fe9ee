"""How a command answers: text or JSON lines, and the exit codes."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from sniper_app.domain.errors import InputError
from sniper_app.domain.text import visible

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


class UsageError(InputError):
    """The command line itself is wrong (unknown option, missing argument)."""


class Output:
    """Writes results and errors as text or, with ``--json``, as JSON lines."""

    def __init__(self, as_json: bool, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.as_json = as_json
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    def result(self, data: Any, text: str) -> None:
        if self.as_json:
            print(json.dumps(data, default=str), file=self.out)
        else:
            # Titles come from eBay and names from anyone: no escape sequence reaches the terminal.
            print(visible(text, keep_newlines=True), file=self.out)

    def error(self, message: str, code: int) -> int:
        if self.as_json:
            print(json.dumps({"error": message, "exit_code": code}), file=self.err)
        else:
            print(f"sniper-app: {visible(message)}", file=self.err)
        return code

