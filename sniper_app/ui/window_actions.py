"""The main window's actions and where they appear: menus, toolbar, the Snipes context menu, shortcuts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sniper_app.ui.qt import QtCore, QtGui

if TYPE_CHECKING:
    from sniper_app.ui.main_window import MainWindow


def build_actions(window: MainWindow) -> None:
    """Every action has a shortcut; menus, the toolbar, the context menu and the tray share them."""

    def make(name: str, text: str, keys: str | QtGui.QKeySequence.StandardKey | None, tip: str) -> QtGui.QAction:
        action = QtGui.QAction(text, window)
        action.setObjectName(name)
        if keys is not None:
            action.setShortcut(QtGui.QKeySequence(keys))
        action.setToolTip(tip)
        action.setStatusTip(tip)
        window.addAction(action)  # shortcuts work whichever view has focus, even with the menu bar hidden
        return action

    tr = window.tr
    acts = {
        "add": make("add", tr("&Add snipe…"), "Ctrl+N", tr("Snipe an item by its number or link")),
        "add_from_clipboard": make(
            "add_from_clipboard", tr("Add snipe from &clipboard"), "Ctrl+Shift+V",
            tr("Snipe the eBay item whose link is on the clipboard"),
        ),
        "edit": make("edit", tr("&Edit snipe…"), "Ctrl+E", tr("Change the maximum or lead time")),
        "cancel": make("cancel", tr("&Cancel snipe"), QtGui.QKeySequence.StandardKey.Delete,
                       tr("Cancel the selected snipe; no bid will be placed")),
        "details": make("details", tr("Snipe &details"), "Ctrl+I", tr("History and timing of the snipe")),
        "sync": make("sync", tr("&Sync watch list now"), "F5", tr("Fetch your eBay watch list now")),
        "pause": make("pause", tr("&Pause all snipes"), "Ctrl+P", tr("Stop placing bids until you resume")),
        "link": make("link", tr("&Link eBay account…"), "Ctrl+L", tr("Link or re-link your eBay account")),
        "settings": make("settings", tr("Se&ttings…"), "Ctrl+,", tr("Every setting of Sniper")),
        "export": make("export", tr("E&xport history…"), "Ctrl+Shift+E", tr("Write the history to a CSV file")),
        "close": make("close", tr("C&lose window"), "Ctrl+W", tr("Close the window; Sniper keeps running")),
        "quit": make("quit", tr("&Quit Sniper"), "Ctrl+Q", tr("Stop Sniper: no snipe is placed until it runs")),
    }
    acts["pause"].setCheckable(True)
    acts["quit"].setMenuRole(QtGui.QAction.MenuRole.QuitRole)
    acts["settings"].setMenuRole(QtGui.QAction.MenuRole.PreferencesRole)
    acts["add"].triggered.connect(lambda: window.open_add_dialog())
    acts["add_from_clipboard"].triggered.connect(window.add_from_clipboard)
    acts["edit"].triggered.connect(window.edit_selected)
    acts["cancel"].triggered.connect(window.cancel_selected)
    acts["details"].triggered.connect(window.details_of_selected)
    acts["sync"].triggered.connect(window.sync_now)
    acts["pause"].toggled.connect(window.set_paused)
    acts["link"].triggered.connect(lambda: window.open_link_dialog())
    acts["settings"].triggered.connect(window.open_settings_dialog)
    acts["export"].triggered.connect(window._choose_export_file)
    acts["close"].triggered.connect(window.close)
    acts["quit"].triggered.connect(window.request_quit)
    window.app_actions = acts

    menus = window.menuBar()
    snipe_menu = menus.addMenu(tr("&Sniper"))
    for name in ("add", "add_from_clipboard", "edit", "cancel", "details"):
        snipe_menu.addAction(acts[name])
    snipe_menu.addSeparator()
    for name in ("pause", "sync"):
        snipe_menu.addAction(acts[name])
    snipe_menu.addSeparator()
    for name in ("link", "settings", "export"):
        snipe_menu.addAction(acts[name])
    snipe_menu.addSeparator()
    snipe_menu.addAction(acts["close"])
    snipe_menu.addAction(acts["quit"])
    view_menu = menus.addMenu(tr("&View"))
    for n in range(window.tabs.count()):
        action = view_menu.addAction(window.tabs.tabText(n).replace("&", ""))
        action.setShortcut(QtGui.QKeySequence(f"Ctrl+{n + 1}"))
        action.triggered.connect(lambda _checked=False, n=n: window.tabs.setCurrentIndex(n))
        window.addAction(action)

    toolbar = window.addToolBar(tr("Actions"))
    toolbar.setObjectName("actionsToolbar")
    toolbar.setMovable(False)
    toolbar.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextOnly)
    for name in ("add", "edit", "cancel", "details", "sync", "pause", "link", "settings"):
        toolbar.addAction(acts[name])
    for name in ("edit", "cancel", "details"):
        window.snipes_view.addAction(acts[name])
