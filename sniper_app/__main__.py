"""Entry point of ``sniper-app`` and ``python -m sniper_app``."""

from __future__ import annotations

import sys


def main() -> int:
    from sniper_app.cli import main as cli_main

    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
