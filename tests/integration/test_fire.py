"""The fire path against a real HTTP server on 127.0.0.1: what arrives, replies, retries, cancel, warm
connections. Timing precision is the benchmark's business (tests/bench/fire_micro.py), not asserted here."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from pathlib import Path

import pytest

from sniper_app.engine.fire import Firer, FireRequest, FireResult
from sniper_app.simulator import SimulatorServer
from tests.support.arrival_server import ArrivalServer, Reply, self_signed
from tests.support.wait import wait_until

TOKEN = "v^1.1#i^1#secret-bearer-token-for-tests"


def _req(server: ArrivalServer, fire_id: str = "a", in_s: float = 0.3, **kw: object) -> FireRequest:
    fields: dict[str, object] = {
        "fire_id": fire_id,
        "send_at": time.time() + in_s,
        "url": server.url,
        "method": "POST",
        "path": f"/buy/offer/v1_beta/bidding/v1%7C{fire_id}%7C0/place_proxy_bid",
        "headers": {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        "body": b'{"maxAmount":{"value":"12.34","currency":"USD"}}',
        "timeout_s": 5.0,
    }
    fields.update(kw)
    return FireRequest(**fields)  # type: ignore[arg-type]



def test_the_exact_request_arrives_and_the_reply_is_parsed(arrival: ArrivalServer, firer: Firer) -> None:
    arrival.script(Reply(200, body=b'{"auction":"placed"}', headers=(("X-Thing", "1"),)))
    req = _req(arrival, headers={"Authorization": f"Bearer {TOKEN}", "Host": "evil", "Content-Length": "999"})
    result = firer.schedule(req).result(10)

    [got] = arrival.arrivals()
    head = (
        f"POST {req.path} HTTP/1.1\r\nHost: 127.0.0.1:{arrival.port}\r\n"
        f"Authorization: Bearer {TOKEN}\r\nContent-Length: {len(req.body)}\r\n\r\n"
    ).encode()
    assert got.raw == head + req.body
    assert got.method == "POST"
    assert got.path == req.path
    assert got.body == req.body
    assert result.outcome == "replied"
    assert result.status == 200
    assert result.body == b'{"auction":"placed"}'
    assert result.header("x-thing") == "1"
    [attempt] = result.attempts
    assert attempt.planned_at == req.send_at
    assert attempt.sent_at is not None
    assert attempt.sent_at >= req.send_at
    assert attempt.reply_at is not None
    assert attempt.reply_at >= attempt.sent_at
    assert attempt.status == 200
    assert attempt.error is None
    assert got.at >= req.send_at  # never early


def test_a_chunked_reply_is_reassembled(arrival: ArrivalServer, firer: Firer) -> None:
    body = b'{"bidding":' + b'"x"' * 500 + b"}"
    arrival.script(Reply(200, body=body, chunked=True))
    result = firer.schedule(_req(arrival)).result(10)
    assert result.status == 200
    assert result.body == body


@pytest.mark.parametrize(
    "first",
    [Reply(503, body=b"busy"), Reply(429, headers=(("Retry-After", "1"),)), Reply(reset=True)],
    ids=["503", "429", "reset"],
)
def test_a_transient_failure_is_resent_at_once_while_before_retry_until(
    arrival: ArrivalServer, firer: Firer, first: Reply
) -> None:
    arrival.script(first, Reply(200, body=b"ok"))
    req = _req(arrival, retry_until=time.time() + 5)
    result = firer.schedule(req).result(10)
    assert result.outcome == "replied"
    assert result.status == 200
    assert result.body == b"ok"
    assert len(result.attempts) == 2
    assert [a.path for a in arrival.arrivals()] == [req.path, req.path]
    if first.reset:
        assert result.attempts[0].error is not None
        a, b = arrival.arrivals()
        assert a.conn_id != b.conn_id  # a fresh connection for the resend
    else:
        assert result.attempts[0].status == first.status


def test_no_resend_after_retry_until(arrival: ArrivalServer, firer: Firer) -> None:
    arrival.set_default(Reply(503, delay_s=0.3))
    req = _req(arrival, retry_until=time.time() + 0.5)
    result = firer.schedule(req).result(10)
    # The first 503 comes back after retry_until: no second bid.
    assert len(result.attempts) == 1
    assert result.outcome == "replied"
    assert result.status == 503
    assert len(arrival.arrivals()) == 1


def test_resends_stop_at_retry_until_and_every_one_left_before_it(arrival: ArrivalServer, firer: Firer) -> None:
    arrival.set_default(Reply(503, delay_s=0.05))
    req = _req(arrival, retry_until=time.time() + 0.6)
    result = firer.schedule(req).result(10)
    assert result.status == 503
    assert len(result.attempts) >= 2
    assert all(a.sent_at is not None and a.sent_at < req.retry_until for a in result.attempts)  # type: ignore[operator]
    assert all(a.at < req.retry_until + 0.5 for a in arrival.arrivals())  # type: ignore[operator]
    assert len(arrival.arrivals()) == len(result.attempts)


def test_without_retry_until_a_503_is_final(arrival: ArrivalServer, firer: Firer) -> None:
    arrival.script(Reply(503))
    result = firer.schedule(_req(arrival)).result(10)
    assert result.status == 503
    assert len(result.attempts) == 1


def test_no_reply_in_time_fails(arrival: ArrivalServer, firer: Firer) -> None:
    arrival.script(Reply(200, delay_s=2.0))
    result = firer.schedule(_req(arrival, timeout_s=0.2)).result(10)
    assert result.outcome == "failed"
    assert result.sent
    assert result.status is None
    assert "no reply" in (result.attempts[0].error or "")


def test_nothing_listening_fails_without_sending(firer: Firer) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed at once: nothing listens there
    req = FireRequest("x", time.time() + 0.05, f"http://127.0.0.1:{port}", "POST", "/b", {}, b"1",
                      retry_until=time.time() + 0.4)
    result = firer.schedule(req).result(10)
    assert result.outcome == "failed"
    assert not result.sent
    assert result.attempts
    assert all("connect failed" in (a.error or "") for a in result.attempts)


def test_cancel_before_send_means_the_server_never_sees_it(arrival: ArrivalServer, firer: Firer) -> None:
    doomed = firer.schedule(_req(arrival, "doomed", in_s=0.3))
    later = firer.schedule(_req(arrival, "later", in_s=0.6))
    assert firer.cancel("doomed") is True
    assert firer.cancel("doomed") is False  # already cancelled
    result = doomed.result(1)
    assert result.outcome == "cancelled"
    assert result.attempts == ()
    assert later.result(10).status == 200  # now well past the doomed send instant
    assert [a.path for a in arrival.arrivals()] == [_req(arrival, "later").path]


def test_cancel_during_the_approach_still_wins_when_before_the_send(arrival: ArrivalServer, firer: Firer) -> None:
    # Inside the approach window a connection is already reserved for the fire: cancelling must still stop it.
    req = _req(arrival, "close", in_s=0.25)
    future = firer.schedule(req)
    wait_until(lambda: time.time() >= req.send_at - 0.1, 2, "the approach window", interval_s=0.005)
    assert firer.cancel("close") is True
    assert future.result(1).outcome == "cancelled"
    sentinel = firer.schedule(_req(arrival, "sentinel", in_s=0.2)).result(10)
    assert sentinel.status == 200
    assert [a.path for a in arrival.arrivals()] == [_req(arrival, "sentinel").path]


def test_cancel_after_send_is_false(arrival: ArrivalServer, firer: Firer) -> None:
    arrival.script(Reply(200, delay_s=0.5))
    future = firer.schedule(_req(arrival, "sent", in_s=0.1))
    arrival.wait_arrivals(1)
    assert firer.cancel("sent") is False  # on the wire, reply pending
    assert future.result(10).outcome == "replied"
    assert firer.cancel("sent") is False
    assert firer.cancel("never-scheduled") is False


def test_cancel_racing_the_send_never_both_cancels_and_sends(arrival: ArrivalServer, firer: Firer) -> None:
    outcomes = []
    for i in range(20):
        req = _req(arrival, f"race{i}", in_s=0.05)
        future = firer.schedule(req)
        while time.time() < req.send_at - 0.0005:
            pass
        cancelled = firer.cancel(req.fire_id)
        result = future.result(10)
        outcomes.append((cancelled, result.outcome, result.sent))
        assert cancelled == (result.outcome == "cancelled")
        assert not (cancelled and result.sent)
    # Every result is in, so every request that was sent has been logged by the server (it logs first).
    sent_paths = {a.path for a in arrival.arrivals()}
    for i, (_, _, sent) in enumerate(outcomes):
        assert (_req(arrival, f"race{i}").path in sent_paths) == sent


def test_a_stale_keep_alive_connection_is_replaced_before_the_send(arrival: ArrivalServer, firer: Firer) -> None:
    firer.warm(arrival.url, count=1)
    wait_until(
        lambda: arrival.open_connections() >= 1 and firer.idle_connections(arrival.url) >= 1, 5,
        "a warm connection", interval_s=0.005,
    )
    opened = arrival.accepted
    assert arrival.drop_idle() >= 1  # the server's idle timeout strikes
    result = firer.schedule(_req(arrival, in_s=0.4)).result(10)
    assert result.status == 200
    assert len(result.attempts) == 1
    assert result.attempts[0].error is None
    [got] = arrival.arrivals()
    assert got.conn_id > opened  # went out on a connection opened after the drop


def test_a_server_idle_timeout_does_not_cost_a_resend(firer: Firer) -> None:
    server = ArrivalServer(idle_timeout_s=0.3)
    server.start()
    try:
        firer.warm(server.url, count=1)
        results = [firer.schedule(_req(server, f"t{i}", in_s=0.5 + 0.35 * i)).result(10) for i in range(3)]
        assert [len(r.attempts) for r in results] == [1, 1, 1]
        assert [r.status for r in results] == [200, 200, 200]
    finally:
        server.stop()


def test_fifty_fires_in_one_second_all_arrive(arrival: ArrivalServer, firer: Firer) -> None:
    base = time.time() + 1.0
    reqs = [_req(arrival, f"b{i}", send_at=base + i / 50) for i in range(50)]
    futures = [firer.schedule(r) for r in reqs]
    results = [f.result(15) for f in futures]
    assert [r.status for r in results] == [200] * 50
    assert all(len(r.attempts) == 1 for r in results)
    arrived = {a.path: a.at for a in arrival.arrivals()}
    assert sorted(arrived) == sorted(r.path for r in reqs)
    assert all(arrived[r.path] >= r.send_at for r in reqs)


def test_stop_resolves_pending_fires_as_cancelled(arrival: ArrivalServer) -> None:
    instance = Firer()
    instance.start()
    futures = [instance.schedule(_req(arrival, f"p{i}", in_s=30 + i)) for i in range(3)]
    instance.stop()
    assert [f.result(1).outcome for f in futures] == ["cancelled"] * 3
    assert arrival.arrivals() == []
    with pytest.raises(RuntimeError):
        instance.schedule(_req(arrival, "after-stop"))


def test_switch_interval_is_lowered_only_around_a_fire(arrival: ArrivalServer, firer: Firer) -> None:
    before = sys.getswitchinterval()
    req = _req(arrival, in_s=0.6)
    future = firer.schedule(req)
    seen: list[float] = []
    while not future.done():
        seen.append(sys.getswitchinterval())
    assert min(seen) < before
    wait_until(lambda: sys.getswitchinterval() == before, 5, "the switch interval restored", interval_s=0.005)


def test_the_asyncio_facade_awaits_without_blocking(arrival: ArrivalServer, firer: Firer) -> None:
    async def main() -> tuple[FireResult, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        result = await firer.fire(_req(arrival, in_s=0.3))
        task.cancel()
        return result, ticks

    result, ticks = asyncio.run(main())
    assert result.status == 200
    assert ticks >= 5  # the loop kept running while the fire was pending


def test_https_through_a_warm_tls_connection(tmp_path: Path) -> None:
    server_ctx, client_ctx = self_signed(tmp_path)
    server = ArrivalServer(host="127.0.0.1", ssl_context=server_ctx)
    server.start()
    instance = Firer(ssl_context=client_ctx)
    instance.start()
    try:
        url = f"https://localhost:{server.port}"
        instance.warm(url, count=1)
        wait_until(lambda: instance.idle_connections(url) >= 1, 5, "a warm connection", interval_s=0.005)
        server.script(Reply(200, body=b"tls-ok", chunked=True))
        req = FireRequest("tls", time.time() + 1.0, url, "POST", "/bid", {"Authorization": f"Bearer {TOKEN}"}, b"{}")
        future = instance.schedule(req)
        # With a fire due the Firer also warms a spare; either may carry the bid, both open before it.
        wait_until(lambda: instance.idle_connections(url) >= 2, 5, "two warm connections", interval_s=0.005)
        opened_before_fire = server.accepted
        result = future.result(10)
        assert result.status == 200
        assert result.body == b"tls-ok"
        [got] = server.arrivals()
        assert got.raw.startswith(f"POST /bid HTTP/1.1\r\nHost: localhost:{server.port}\r\n".encode())
        assert got.conn_id <= opened_before_fire  # a warm connection: no handshake at fire time
    finally:
        instance.stop()
        server.stop()


def test_secrets_stay_out_of_logs_and_reprs(arrival: ArrivalServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    instance = Firer(warm_ahead_s=0.0, spares=0)  # no warm connection: the late path logs a warning
    instance.start()
    try:
        req = _req(arrival, in_s=0.05)
        assert TOKEN not in repr(req)
        result = instance.schedule(req).result(10)
        assert TOKEN not in repr(result)
    finally:
        instance.stop()
    assert "no warm connection" in caplog.text
    assert TOKEN not in caplog.text


def test_collection_and_switch_interval_are_paused_only_around_a_fire(arrival: ArrivalServer, firer: Firer) -> None:
    import gc
    import sys

    interval = sys.getswitchinterval()
    assert gc.isenabled()
    seen: list[tuple[bool, float]] = []
    future = firer.schedule(_req(arrival, in_s=0.6))
    # Sample from this thread while the approach is on: the fire thread pauses collection and shortens
    # the switch interval for those last few hundred milliseconds only.
    while not future.done():
        seen.append((gc.isenabled(), sys.getswitchinterval()))
        time.sleep(0.001)
    assert future.result(5).status == 200
    assert (False, pytest.approx(0.0005)) in seen
    wait_until(
        lambda: gc.isenabled() and sys.getswitchinterval() == interval, 5,
        "garbage collection and the switch interval restored", interval_s=0.005,
    )


def test_the_claim_makes_the_request_final_and_may_swap_the_body(arrival: ArrivalServer, firer: Firer) -> None:
    arrival.script(Reply(200, body=b"{}"))
    new_body = b'{"maxAmount":{"value":"50.00","currency":"USD"}}'
    claimed: list[float] = []

    def claim() -> bytes:
        claimed.append(time.time())
        return new_body

    req = _req(arrival, in_s=1.0, claim=claim, claim_before_s=0.5)
    future = firer.schedule(req)
    wait_until(lambda: bool(claimed), 5, "the fire to claim the snipe", interval_s=0.005)
    assert not firer.cancel("a")  # claimed: the caller's cancel can no longer promise anything
    result = future.result(10)
    [got] = arrival.arrivals()
    assert got.body == new_body
    assert result.outcome == "replied"
    assert claimed[0] <= req.send_at  # claimed before the send, never after


def test_a_claim_that_says_no_sends_nothing(arrival: ArrivalServer, firer: Firer) -> None:
    calls: list[int] = []

    def refuse() -> None:
        calls.append(1)
        return None

    result = firer.schedule(_req(arrival, in_s=0.6, claim=refuse, claim_before_s=0.3)).result(10)
    assert calls == [1]
    assert result.outcome == "cancelled"
    assert not result.sent
    time.sleep(0.5)  # past the planned send: still nothing arrived
    assert arrival.arrivals() == []


def test_a_failing_claim_fails_the_fire_with_the_reason(arrival: ArrivalServer, firer: Firer) -> None:
    def broken() -> bytes:
        raise OSError("disk I/O error")

    result = firer.schedule(_req(arrival, in_s=0.6, claim=broken, claim_before_s=0.3)).result(10)
    assert result.outcome == "failed"
    assert not result.sent
    assert "disk I/O error" in (result.attempts[-1].error or "")
    assert arrival.arrivals() == []


def test_cancel_before_the_claim_wins(arrival: ArrivalServer, firer: Firer) -> None:
    calls: list[int] = []

    def claim() -> bytes:
        calls.append(1)
        return b"{}"

    future = firer.schedule(_req(arrival, in_s=1.0, claim=claim, claim_before_s=0.3))
    assert firer.cancel("a")
    assert future.result(5).outcome == "cancelled"
    assert calls == []
    assert arrival.arrivals() == []


def test_a_claim_still_running_at_the_send_instant_sends_as_soon_as_it_completes(
    arrival: ArrivalServer, firer: Firer
) -> None:
    arrival.script(Reply(200, body=b"{}"))
    release = time.time() + 0.8

    def slow_claim() -> bytes:
        time.sleep(max(0.0, release - time.time()))  # a database write lock held by someone else
        return b"{}"

    req = _req(arrival, in_s=0.5, claim=slow_claim, claim_before_s=0.3, retry_until=time.time() + 5.0)
    result = firer.schedule(req).result(10)
    [got] = arrival.arrivals()
    assert result.outcome == "replied"
    assert got.at >= release  # never before the claim completed


def test_probe_times_round_trips_on_a_raw_connection(sim: SimulatorServer, firer: Firer) -> None:
    sim.set_network(latency_ms=40)
    since = sim.requests()[-1]["seq"] if sim.requests() else 0
    rtts = firer.probe(sim.base_url, count=3)
    assert [(r["method"], r["path"]) for r in sim.requests(since)] == [("HEAD", "/")] * 3
    assert len(rtts) == 3
    assert all(0.035 <= r < 5.0 for r in rtts)  # the simulated network's round trip is in each
