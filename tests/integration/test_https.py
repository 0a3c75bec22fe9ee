"""eBay over HTTPS, verified the way the machine trusts certificates: the simulator serves TLS with a
certificate from a throw-away CA that only ``SSL_CERT_FILE`` trusts, and the real CLI and headless engine
link, sync and win a snipe through it, the bid's own raw connection included."""

from __future__ import annotations

import asyncio
import os
import signal
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from sniper_app.ebay import SecretStore
from sniper_app.engine.notifications import send_test_email
from sniper_app.simulator import SimulatorServer
from tests.support.cli_sim import CliSim, sim_env
from tests.support.connect_proxy import connect_proxy
from tests.support.notify import email_settings
from tests.support.tls import PROXIED_NAME, Certificates, throwaway_ca
from tests.support.wait import wait_until

FINAL = ("WON", "LOST", "FAILED", "MISSED", "SKIPPED")


@pytest.fixture
def certs(tmp_path: Path) -> Certificates:
    return throwaway_ca(tmp_path)


@pytest.fixture
def tls_sim(certs: Certificates) -> Iterator[SimulatorServer]:
    server = SimulatorServer(
        host="127.0.0.1", port=0, sntp_port=0, scenario="empty", auto_approve=True,
        ssl_certfile=str(certs.cert_file), ssl_keyfile=str(certs.key_file),
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _sim_api(server: SimulatorServer, certs: Certificates) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, verify=ssl.create_default_context(cafile=str(certs.ca_file)),
                        timeout=10)


def _cli(server: SimulatorServer, certs: Certificates, dirs: Path, **extra: str) -> CliSim:
    return CliSim(server, sim_env(server) | extra, dirs)


def test_untrusted_certificate_is_refused_with_a_sentence(
    tls_sim: SimulatorServer, certs: Certificates, isolated_dirs: Path
) -> None:
    assert tls_sim.base_url.startswith("https://")
    cli = _cli(tls_sim, certs, isolated_dirs)
    url = cli.ok_json("account", "link", "--print-url")["consent_url"]
    with _sim_api(tls_sim, certs) as api:
        landed = api.get(url).headers["location"]
    refused = cli.run("account", "link", "--redirect-url", landed)
    assert refused.returncode == 1
    assert "certificate" in refused.stderr
    assert "not trusted by this machine" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert cli.ok_json("account", "status")["linked"] is False


def _link_sync_and_snipe(cli: CliSim, api: httpx.Client, consent_base: str) -> tuple[dict[str, Any], Any]:
    """Link, sync the watch list, then win a snipe with a headless engine; the snipe and its auction."""
    watched = api.post("/_sim/auctions", json={
        "title": "Watched over TLS", "start_price": "10.00", "ends_in": 3600, "watched_by": ["demo"],
    }).json()["legacy_item_id"]
    url = cli.ok_json("account", "link", "--print-url")["consent_url"]
    landed = api.get(url.replace(consent_base, str(api.base_url).rstrip("/"))).headers["location"]
    linked = cli.run("account", "link", "--redirect-url", landed)
    assert linked.returncode == 0, linked.stderr
    assert cli.ok_json("watchlist", "sync")["count"] == 1
    assert [w["item"] for w in cli.ok_json("watchlist", "list")] == [str(watched)]

    proc = subprocess.Popen(
        [sys.executable, "-m", "sniper_app", "--headless"], env=dict(os.environ) | cli.env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        while "Sniper engine running" not in proc.stdout.readline():
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        item = api.post("/_sim/auctions", json={
            "title": "Sniped over TLS", "start_price": "10.00", "ends_in": 14,
            "rivals": [{"max": "15.00", "before_end": 6.0}],
        }).json()["legacy_item_id"]
        snipe_id = cli.ok_json("snipe", "add", str(item), "20", "--lead", "2")["snipe"]["id"]

        def finished() -> dict[str, Any] | None:
            found = [s for s in cli.ok_json("snipe", "list") if s["id"] == snipe_id]
            return found[0] if found and found[0]["status"] in FINAL else None

        snipe = wait_until(finished, 40.0, "the snipe to finish")
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    return snipe, api.get(f"/_sim/auctions/{item}").json()


def _won(snipe: dict[str, Any], auction: Any) -> None:
    assert snipe["status"] == "WON", snipe
    assert auction["winner"] == "demo"
    ours = [b for b in auction["bids"] if b["bidder"] == "demo"]
    assert [(b["max"], b["accepted"]) for b in ours] == [("20.00", True)], auction


def test_link_sync_and_win_a_snipe_over_https(
    tls_sim: SimulatorServer, certs: Certificates, isolated_dirs: Path
) -> None:
    cli = _cli(tls_sim, certs, isolated_dirs, SSL_CERT_FILE=str(certs.ca_file), SNIPER_MIN_SECONDS_BEFORE_END="10")
    with _sim_api(tls_sim, certs) as api:
        _won(*_link_sync_and_snipe(cli, api, tls_sim.base_url))


def test_every_ebay_call_and_the_bid_go_through_the_https_proxy(
    tls_sim: SimulatorServer, certs: Certificates, isolated_dirs: Path
) -> None:
    # eBay's name resolves only inside the proxy: any call that went around it would fail.
    origin = f"{PROXIED_NAME}:{tls_sim.port}"
    base = f"https://{origin}"
    # A company proxy that asks for a sign-in, given in the URL as usual (percent-encoded): every CONNECT,
    # the bid's included, must carry it, and it must never be written down.
    user, password = "corp\\ann", "p@ss:w0rd-PROXY-SECRET"
    with connect_proxy({PROXIED_NAME: "127.0.0.1"}, (user, password)) as proxy, _sim_api(tls_sim, certs) as api:
        proxy_url = proxy.url.replace("://", f"://{quote(user, safe='')}:{quote(password, safe='')}@")
        cli = _cli(
            tls_sim, certs, isolated_dirs,
            SNIPER_EBAY_API_URL=base, SNIPER_EBAY_AUTH_URL=base, SNIPER_EBAY_TRADING_URL=f"{base}/ws/api.dll",
            SSL_CERT_FILE=str(certs.ca_file), SNIPER_MIN_SECONDS_BEFORE_END="10",
            HTTPS_PROXY=proxy_url, https_proxy=proxy_url, NO_PROXY="", no_proxy="",
        )
        _won(*_link_sync_and_snipe(cli, api, base))
    assert proxy.refused == []
    assert proxy.tunnels
    assert set(proxy.tunnels) == {origin}
    for path in isolated_dirs.rglob("*"):
        if path.is_file():
            assert b"PROXY-SECRET" not in path.read_bytes(), path


def test_postmark_email_trusts_the_machines_store_too(
    tls_sim: SimulatorServer, certs: Certificates, tmp_path: Path, isolated_dirs: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A company's root certificate, trusted by the machine only: the notification of a won snipe gets through.
    monkeypatch.setenv("SSL_CERT_FILE", str(certs.ca_file))
    secrets = SecretStore("simulator", environ={})
    secrets.set_postmark_token("POSTMARK_API_TEST")
    settings = email_settings(tmp_path, email_backend="postmark", postmark_url=tls_sim.base_url)
    asyncio.run(send_test_email(settings, secrets))
    assert [mail["To"] for mail in tls_sim.emails()] == ["me@example.com"]
