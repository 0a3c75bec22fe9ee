"""Faults, latency with exact arrival recording, and the SNTP responder of the simulator."""

from __future__ import annotations

import socket
import struct
import time
from urllib.parse import quote

import httpx
import pytest

from sniper_app.simulator import SimulatorServer
from tests.support.simulator import user_token
from tests.support.wait import wait_until

NTP_DELTA = 2_208_988_800


def bid_url(srv: SimulatorServer, item_id: str) -> str:
    return f"{srv.base_url}/buy/offer/v1_beta/bidding/{quote(item_id, safe='')}/place_proxy_bid"


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-EBAY-C-MARKETPLACE-ID": "EBAY_US"}


BODY = {"maxAmount": {"currency": "USD", "value": "20.00"}}


def test_status_fault_hits_count_matching_requests_then_clears(sim: SimulatorServer) -> None:
    a = sim.create_auction("Fault", "10.00", 600)
    token = user_token(sim)
    httpx.post(sim.base_url + "/_sim/faults", json={"path": "place_proxy_bid$", "count": 2, "kind": "status",
                                                   "status": 503})
    with httpx.Client() as client:
        other = client.get(f"{sim.base_url}/buy/offer/v1_beta/bidding/{quote(a['item_id'], safe='')}",
                           headers=headers(token))
        assert other.status_code == 404  # a non-matching path is untouched
        first = client.post(bid_url(sim, a["item_id"]), json=BODY, headers=headers(token))
        second = client.post(bid_url(sim, a["item_id"]), json=BODY, headers=headers(token))
        third = client.post(bid_url(sim, a["item_id"]), json=BODY, headers=headers(token))
    assert [first.status_code, second.status_code, third.status_code] == [503, 503, 200]
    assert first.json()["errors"][0]["errorId"] == 120000
    state = sim.auction(a["legacy_item_id"])
    assert len(state["bids"]) == 1  # faulted requests never reached the auction
    statuses = [r["status"] for r in sim.requests() if r["path"].endswith("place_proxy_bid")]
    assert statuses == [503, 503, 200]


def test_rate_limit_fault_has_retry_after(sim: SimulatorServer) -> None:
    sim.add_fault("/buy/browse/", kind="rate_limit", retry_after=2)
    r = httpx.get(sim.base_url + "/buy/browse/v1/item/v1%7C1%7C0")
    assert r.status_code == 429
    assert r.headers["retry-after"] == "2"
    assert r.json()["errors"][0]["errorId"] == 2001


def test_drop_fault_closes_without_reply(sim: SimulatorServer) -> None:
    httpx.post(sim.base_url + "/_sim/faults", json={"path": "/commerce/identity/", "kind": "drop", "count": 1})
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(sim.base_url + "/commerce/identity/v1/user/")
    assert httpx.get(sim.base_url + "/commerce/identity/v1/user/").status_code == 401  # next one is served
    dropped = [r for r in sim.requests() if r["path"] == "/commerce/identity/v1/user/"]
    assert [r["status"] for r in dropped] == [None, 401]


def test_timeout_fault_hangs(sim: SimulatorServer) -> None:
    sim.add_fault("/identity/v1/oauth2/token", kind="timeout", hang_s=30)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(sim.base_url + "/identity/v1/oauth2/token", timeout=0.4)
    assert time.monotonic() - started >= 0.4


def test_delete_faults_clears_them(sim: SimulatorServer) -> None:
    sim.add_fault(".*", kind="status", status=500, count=5)
    httpx.delete(sim.base_url + "/_sim/faults")
    assert httpx.get(sim.base_url + "/commerce/identity/v1/user/").status_code == 401


def test_latency_arrival_is_half_the_round_trip(sim: SimulatorServer) -> None:
    httpx.post(sim.base_url + "/_sim/network", json={"latency_ms": 80, "jitter_ms": 0})
    with httpx.Client() as client:
        client.get(sim.base_url + "/commerce/identity/v1/user/")  # warm the connection
        samples = []
        for _ in range(5):
            since = sim.requests()[-1]["seq"]
            sent = time.time()
            r = client.get(sim.base_url + "/commerce/identity/v1/user/")
            done = time.time()
            rec = sim.requests(since)[0]
            samples.append((rec["arrival_epoch"] - sent, done - sent, r.status_code))
    for one_way, round_trip, status in samples:
        assert status == 401
        assert one_way == pytest.approx(0.040, abs=0.006)
        assert round_trip == pytest.approx(0.080, abs=0.025)
        assert round_trip >= 0.079


def test_arrival_decides_whether_a_bid_counts(sim: SimulatorServer) -> None:
    a = sim.create_auction("Close call", "10.00", 3.0)
    token = user_token(sim)
    sim.set_network(latency_ms=400)
    with httpx.Client() as client:
        # Sent ~0.1 s before the end on the sim clock, it arrives 0.2 s later: after the end.
        wait_until(lambda: sim.now() >= a["end_epoch"] - 0.1, 10, "0.1 s before the end", interval_s=0.01)
        r = client.post(bid_url(sim, a["item_id"]), json=BODY, headers=headers(token))
    assert r.status_code == 409
    assert r.json()["errors"][0]["errorId"] == 120012
    bid = sim.auction(a["legacy_item_id"])["bids"][0]
    assert bid["accepted"] is False
    assert bid["arrival_epoch"] >= a["end_epoch"]


def test_requests_log_records_user_and_query(sim: SimulatorServer) -> None:
    token = user_token(sim)
    httpx.get(sim.base_url + "/buy/browse/v1/item/get_item_by_legacy_id", params={"legacy_item_id": "7"},
              headers=headers(token))
    httpx.get(sim.base_url + "/_sim/auctions")
    log = httpx.get(sim.base_url + "/_sim/requests", params={"since": 0}).json()["requests"]
    last = log[-1]
    assert last["path"] == "/buy/browse/v1/item/get_item_by_legacy_id"
    assert last["query"] == "legacy_item_id=7"
    assert last["user"] == "demo"
    assert last["status"] == 404
    assert last["arrival_time"].endswith("Z")
    assert all(not r["path"].startswith("/_sim/") for r in log)


def sntp_query(address: tuple[str, int], version: int = 4) -> tuple[bytes, float, float]:
    request = bytearray(48)
    request[0] = (0 << 6) | (version << 3) | 3
    sent = time.time()
    secs = int(sent) + NTP_DELTA
    request[40:48] = struct.pack("!II", secs, int((sent % 1) * 2**32))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.sendto(bytes(request), address)
        reply, _ = s.recvfrom(512)
    return reply, sent, time.time()


def ntp_time(raw: bytes) -> float:
    secs, frac = struct.unpack("!II", raw)
    return secs - NTP_DELTA + frac / 2**32


def test_sntp_answers_with_the_offset_clock() -> None:
    with SimulatorServer(clock_offset=12.5) as offset_sim:
        reply, sent, received = sntp_query(offset_sim.sntp_address)
        assert len(reply) == 48
        assert reply[0] & 0x7 == 4
        assert (reply[0] >> 3) & 0x7 == 4
        assert reply[1] == 1
        request_tx = struct.pack("!II", int(sent) + NTP_DELTA, int((sent % 1) * 2**32))
        assert reply[24:32] == request_tx  # originate = the client's transmit stamp
        t_recv, t_xmit = ntp_time(reply[32:40]), ntp_time(reply[40:48])
        offset = ((t_recv - sent) + (t_xmit - received)) / 2
        assert offset == pytest.approx(12.5, abs=0.01)
        assert t_recv <= t_xmit
        reply3, _, _ = sntp_query(offset_sim.sntp_address, version=3)
        assert (reply3[0] >> 3) & 0x7 == 3
