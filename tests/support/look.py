"""Palettes to look at the window in: the platform's light one and a dark one like a dark desktop theme's."""

from __future__ import annotations

from sniper_app.ui.qt import QtGui


def dark_palette() -> QtGui.QPalette:
    """A dark palette of the kind KDE's Breeze Dark or GNOME's dark style hand to Qt."""
    role, group = QtGui.QPalette.ColorRole, QtGui.QPalette.ColorGroup
    palette = QtGui.QPalette()
    colours = {
        role.Window: "#353535", role.WindowText: "#eeeeee", role.Base: "#2b2b2b", role.AlternateBase: "#313131",
        role.ToolTipBase: "#2b2b2b", role.ToolTipText: "#eeeeee", role.PlaceholderText: "#9a9a9a",
        role.Text: "#eeeeee", role.Button: "#3c3c3c", role.ButtonText: "#eeeeee", role.BrightText: "#ff5555",
        role.Highlight: "#3d7ab8", role.HighlightedText: "#ffffff", role.Link: "#8ab4f8",
        role.LinkVisited: "#c58af9", role.Light: "#4a4a4a", role.Midlight: "#404040", role.Mid: "#2a2a2a",
        role.Dark: "#202020", role.Shadow: "#141414",
    }
    for colour_role, colour in colours.items():
        palette.setColor(colour_role, QtGui.QColor(colour))
    for colour_role in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(group.Disabled, colour_role, QtGui.QColor("#7f7f7f"))
    return palette


def light_palette() -> QtGui.QPalette:
    """The Fusion style's own light palette: the same on every machine, unlike the desktop's."""
    from sniper_app.ui.qt import QtWidgets

    return QtWidgets.QStyleFactory.create("Fusion").standardPalette()
