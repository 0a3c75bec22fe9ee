"""Settings › Remote against a real box (``--headless --listen`` as its own process, over HTTPS on loopback):
a pasted invite pairs and is kept like ``remote connect``, the box's details show, a tampered invite is
refused beside the field, Disconnect forgets the box; laid out to fit 800x500."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from sniper_app.config import Settings
from sniper_app.ebay import SecretStore
from sniper_app.remote.credentials import load_link, marked_box
from sniper_app.remote.service import DesktopLink
from sniper_app.ui.bridge import AsyncRunner
from sniper_app.ui.qt import QtWidgets
from sniper_app.ui.settings_dialog import SettingsDialog
from tests.gui.conftest import SCREENSHOT_DIR
from tests.gui.test_layout import _fit_problems
from tests.support.cli import free_port, run_cli
from tests.support.cli_sim import CliSim
from tests.support.wait import wait_until_async


@pytest.fixture
def box(cli: CliSim, tmp_path: Path) -> Iterator[tuple[CliSim, int]]:
    """A box process serving paired desktops on a loopback port; its own keyring file beside the test's."""
    cli.env = cli.env | {"SNIPER_TEST_KEYRING_FILE": str(tmp_path / "box-keyring.json")}
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sniper_app", "--headless", "--listen", f"127.0.0.1:{port}"],
        env=dict(os.environ) | cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if "Sniper engine running" in line:
                break
        else:
            raise AssertionError(f"the box did not start: {proc.stderr.read() if proc.stderr else ''}")
        yield cli, port
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)


def _invite(cli: CliSim) -> str:
    made = run_cli("remote", "invite", env=cli.env)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip().splitlines()[-1]


def test_the_remote_page_pairs_shows_the_box_refuses_a_tampered_invite_and_disconnects(
    qtbot: QtBot, tmp_path: Path, box: tuple[CliSim, int], qloop: Any
) -> None:
    cli, port = box
    desk = tmp_path / "desk"
    desk.mkdir()
    secrets = SecretStore("simulator", environ={})
    runner = AsyncRunner()
    dialog = SettingsDialog(Settings(), runner, settings_file=tmp_path / "settings.json", secrets=secrets,
                            environ={}, remote=DesktopLink(desk, secrets))
    qtbot.addWidget(dialog)
    page = dialog.remote_page
    dialog.tabs.setCurrentIndex(dialog.tabs.count() - 1)
    dialog.show()
    dialog.resize(800, 500)
    assert dialog.tabs.tabText(dialog.tabs.count() - 1) == "Remote"
    assert page.state_label.text() == "This computer's own engine."
    assert not page.disconnect_button.isEnabled()
    for control in (page.invite_edit, page.name_edit, page.connect_button, page.disconnect_button,
                    page.refresh_button, page.address_label, page.fingerprint_label, page.latency_label,
                    page.engine_label, page.state_label):
        assert control.accessibleName(), control.objectName()

    invite = _invite(cli)
    head, _, check = invite.rpartition(".")
    middle = len(head) // 2
    tampered = head[:middle] + ("A" if head[middle] != "A" else "B") + head[middle + 1 :] + "." + check

    async def scenario() -> None:
        page.invite_edit.setText(tampered)
        page.connect_button.click()
        await wait_until_async(lambda: "damaged or incomplete" in page.message.text(), what="the refusal")
        assert page.message.isVisible()
        assert marked_box(desk) is None

        page.invite_edit.setText(invite)
        page.connect_button.click()
        await wait_until_async(lambda: page.latency_label.text().endswith(" ms"), 20.0, what="the box's status")
        assert page.state_label.text() == f"The Sniper box at 127.0.0.1:{port}."
        assert page.address_label.text() == f"127.0.0.1:{port}"
        assert page.engine_label.text().startswith("running, with no eBay account linked yet; 0 active snipes")
        assert "Restart Sniper" in page.message.text()
        assert page.invite_edit.text() == ""  # spent
        assert page.disconnect_button.isEnabled()

        # Kept as the command line keeps it: the same note and link, so 'remote status' sees the box.
        link = load_link(secrets)
        assert link is not None
        assert page.fingerprint_label.text().replace("\n", ":").replace(":", "").lower() == link.fingerprint
        assert marked_box(desk) == f"127.0.0.1:{port}"

        qtbot.wait(50)
        assert _fit_problems(dialog) == []
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        dialog.grab().save(str(SCREENSHOT_DIR / "settings-remote.png"))

        page.disconnect_button.click()
        await wait_until_async(lambda: page.state_label.text() == "This computer's own engine.",
                               what="the disconnect")
        assert marked_box(desk) is None
        assert load_link(secrets) is None
        assert page.address_label.text() == "—"

    qloop(scenario())


def test_the_remote_page_at_800_by_500_with_nothing_paired_cuts_nothing(
    qtbot: QtBot, tmp_path: Path, isolated_dirs: Path, qloop: Any
) -> None:
    secrets = SecretStore("simulator", environ={})
    dialog = SettingsDialog(Settings(), AsyncRunner(), settings_file=tmp_path / "settings.json", secrets=secrets,
                            environ={}, remote=DesktopLink(tmp_path, secrets))
    qtbot.addWidget(dialog)
    dialog.tabs.setCurrentIndex(dialog.tabs.count() - 1)
    dialog.show()
    dialog.resize(800, 500)
    qtbot.waitExposed(dialog)
    qtbot.wait(50)
    page = dialog.remote_page
    page.connect_box()  # nothing pasted: said beside the field, nothing sent
    assert "Paste the invite" in page.message.text()
    qtbot.wait(50)
    assert _fit_problems(dialog) == []
    assert isinstance(dialog.tabs.currentWidget(), QtWidgets.QScrollArea)
