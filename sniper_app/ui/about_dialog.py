"""Help › About: which Sniper this is, where it keeps its data, config and logs, and where its manual is."""

from __future__ import annotations

import html
import logging
from importlib import metadata
from pathlib import Path
from typing import Final

from sniper_app import __version__, paths
from sniper_app.ui import icons
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets
from sniper_app.ui.widgets import keep_wrapped_labels_whole

log = logging.getLogger(__name__)

DISTRIBUTION: Final = "sniper-app"


def readme_url() -> str | None:
    """The manual's address: from the installed package's metadata (``[project.urls]``) when it names one,
    else the README.md of the checkout the program runs from; None when neither exists (a frozen bundle)."""
    local = Path(__file__).resolve().parents[2] / "README.md"
    fallback = local.as_uri() if local.is_file() else None
    try:
        entries = metadata.metadata(DISTRIBUTION).get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return fallback
    urls: dict[str, str] = {}
    for entry in entries:
        label, _, url = str(entry).partition(",")
        urls[label.strip().casefold()] = url.strip()
    for wanted in ("documentation", "readme", "homepage", "source", "repository"):
        if urls.get(wanted):
            return urls[wanted]
    return next(iter(urls.values()), fallback)


class AboutDialog(QtWidgets.QDialog):
    """The version, the three folders (each with a button that opens it) and a link to the README."""

    def __init__(self, data_dir: Path, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle(self.tr("About Sniper"))
        self.setAccessibleName(self.tr("About Sniper"))
        layout = QtWidgets.QVBoxLayout(self)

        head = QtWidgets.QHBoxLayout()
        picture = QtWidgets.QLabel(self)
        app_icon = QtWidgets.QApplication.windowIcon()
        if not app_icon.isNull():
            picture.setPixmap(app_icon.pixmap(QtCore.QSize(48, 48), self.devicePixelRatioF()))
        head.addWidget(picture, 0, QtCore.Qt.AlignmentFlag.AlignTop)
        self.title = QtWidgets.QLabel(
            self.tr("<b>Sniper {version}</b><br>Places your maximum bid on eBay seconds before an auction "
                    "ends.").format(version=html.escape(__version__)), self)
        self.title.setObjectName("aboutTitle")
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        head.addWidget(self.title, 1)
        layout.addLayout(head)

        form = QtWidgets.QFormLayout()
        self.folders: dict[str, Path] = {
            "data": data_dir,
            "config": paths.config_dir(),
            "logs": paths.log_dir(),
        }
        names = {"data": self.tr("Data"), "config": self.tr("Settings"), "logs": self.tr("Logs")}
        self.open_buttons: dict[str, QtWidgets.QPushButton] = {}
        for key, folder in self.folders.items():
            row = QtWidgets.QHBoxLayout()
            shown = QtWidgets.QLabel(str(folder), self)
            shown.setObjectName(f"folder_{key}")
            shown.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
            shown.setWordWrap(True)
            row.addWidget(shown, 1)
            button = QtWidgets.QPushButton(icons.icon("folder"), self.tr("Open"), self)
            button.setObjectName(f"open_{key}")
            button.setAccessibleName(self.tr("Open the {name} folder").format(name=names[key].lower()))
            button.setToolTip(str(folder))
            button.clicked.connect(lambda _checked=False, folder=folder: self.open_folder(folder))
            row.addWidget(button)
            self.open_buttons[key] = button
            label = QtWidgets.QLabel(names[key] + ":", self)
            label.setBuddy(button)
            form.addRow(label, row)
        layout.addLayout(form)

        self.url = readme_url()
        self.link = QtWidgets.QLabel(self)
        self.link.setObjectName("readmeLink")
        self.link.setAccessibleName(self.tr("Manual"))
        if self.url:
            self.link.setText(self.tr('The manual: <a href="{url}">{url}</a>').format(url=html.escape(self.url)))
            self.link.setOpenExternalLinks(True)
            self.link.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextBrowserInteraction)
        else:
            self.link.setText(self.tr("The manual is README.md, beside the program's source."))
        self.link.setWordWrap(True)
        layout.addWidget(self.link)
        licence = QtWidgets.QLabel(self.tr("Free software under the MIT licence. Icons: Material Design Icons "
                                           "(Apache 2.0)."), self)
        licence.setWordWrap(True)
        layout.addWidget(licence)

        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close, self)
        close = buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName(self.tr("Close"))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        # Wide for its font: with a large one, its sentences would otherwise stack taller than the screen.
        self.setMinimumWidth(max(540, 72 * self.fontMetrics().averageCharWidth()))
        keep_wrapped_labels_whole(self)

    def open_folder(self, folder: Path) -> bool:
        folder.mkdir(parents=True, exist_ok=True)
        return QtGui.QDesktopServices.openUrl(QtCore.QUrl.fromLocalFile(str(folder)))
