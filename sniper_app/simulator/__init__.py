"""A faithful, independent eBay on localhost for the demo and the tests (imports nothing of the app)."""

from .server import SimulatorServer
from .world import CLIENT_ID, CLIENT_SECRET, DEMO_USER, RUNAME, SCOPE_API, SCOPE_IDENTITY, SCOPE_OFFER

__all__ = [
    "CLIENT_ID",
    "CLIENT_SECRET",
    "DEMO_USER",
    "RUNAME",
    "SCOPE_API",
    "SCOPE_IDENTITY",
    "SCOPE_OFFER",
    "SimulatorServer",
]
