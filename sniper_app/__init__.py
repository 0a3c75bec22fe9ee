"""Sniper: a desktop eBay auction sniper."""

__version__ = "0.1.0"
