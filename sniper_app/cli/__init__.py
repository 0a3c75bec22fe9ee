"""The command line: every action of the app, usable with or without the window running.

One module per command group holds its parser set-up next to its handlers; :mod:`.main` builds the whole
parser and dispatches.
"""

from sniper_app.cli.main import build_parser, main
from sniper_app.cli.output import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK, Output, UsageError

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILURE", "EXIT_OK", "Output", "UsageError", "build_parser", "main"]
