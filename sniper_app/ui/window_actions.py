"""The main window's actions and where they appear: menus, toolbar, the Snipes context menu, shortcuts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sniper_app.ui import icons
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets

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
        "about": make("about", tr("&About Sniper"), None, tr("Version, data folders and the manual")),
    }
    # The toolbar shows short words beside the icons, so every button still fits an 800-pixel window.
    for name, short in (("add", tr("Add")), ("edit", tr("Edit")), ("cancel", tr("Cancel")),
                        ("details", tr("Details")), ("sync", tr("Sync")), ("pause", tr("Pause")),
                        ("link", tr("Link")), ("settings", tr("Settings"))):
        acts[name].setIconText(short)
    acts["pause"].setCheckable(True)
    acts["quit"].setMenuRole(QtGui.QAction.MenuRole.QuitRole)
    acts["settings"].setMenuRole(QtGui.QAction.MenuRole.PreferencesRole)
    acts["about"].setMenuRole(QtGui.QAction.MenuRole.AboutRole)
    acts["about"].triggered.connect(lambda: open_about(window))
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

    help_menu = menus.addMenu(tr("&Help"))
    help_menu.addAction(acts["about"])

    toolbar = window.addToolBar(tr("Actions"))
    toolbar.setObjectName("actionsToolbar")
    toolbar.setAccessibleName(tr("Actions"))
    toolbar.setMovable(False)
    toolbar.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    toolbar.setIconSize(QtCore.QSize(18, 18))
    for name in ("add", "edit", "cancel", "details", "sync", "pause", "link", "settings"):
        toolbar.addAction(acts[name])
        button = toolbar.widgetForAction(acts[name])
        if button is not None:
            button.setAccessibleName(acts[name].text().replace("&", "").rstrip("…"))
    for name in ("edit", "cancel", "details"):
        window.snipes_view.addAction(acts[name])
    # Tab follows the page from top to bottom: the controls above a table come before it.
    QtWidgets.QWidget.setTabOrder(window.show_finished_box, window.snipes_view)
    QtWidgets.QWidget.setTabOrder(window.history_filter_bar.export_button, window.history_view)
    window.tabs.tabBar().setAccessibleName(tr("Views"))

    tab_icons = ("watch_list", "snipes", "history", "diagnostics")

    def apply_icons() -> None:
        for name, action in acts.items():
            if name in icons.GLYPHS:
                action.setIcon(icons.icon(name))
        for n, name in enumerate(tab_icons[: window.tabs.count()]):
            window.tabs.setTabIcon(n, icons.icon(name))

    icons.follow_palette(window, apply_icons)


def open_about(window: MainWindow) -> None:
    from sniper_app.ui.about_dialog import AboutDialog

    dialog = AboutDialog(window._settings.resolved_data_dir(), window)
    window._keep(dialog, "about")
    dialog.open()
