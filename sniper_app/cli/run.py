"""The bare program: the window, or the engine alone with ``--headless`` (``--demo`` for the bundled simulator)."""

from __future__ import annotations

import argparse

from sniper_app.cli.output import Output, UsageError
from sniper_app.domain.text import visible


def _announce(text: str) -> None:
    print(visible(text, keep_newlines=True), flush=True)


def _run_engine(args: argparse.Namespace, out: Output) -> int:
    from sniper_app.app import run_demo, run_headless, run_window
    from sniper_app.config import load_settings

    settings = load_settings()
    if args.listen is not None and not args.headless:
        raise UsageError("--listen serves the engine to paired desktops and goes with --headless.")
    if not args.headless:
        return run_window(settings, _announce, args.log_level, demo=args.demo, minimized=args.minimized)
    if args.demo:
        return run_demo(settings, _announce, args.log_level, listen=args.listen)
    return run_headless(settings, _announce, args.log_level, listen=args.listen)

