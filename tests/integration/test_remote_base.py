"""The remote engine's base over real HTTPS and WebSocket on loopback: pairing by invite, the pin, tokens,
the backoff, and an event stream that survives the box's restart."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from sniper_app.ebay import SecretStore
from sniper_app.ebay.vaults import KeyringVault
from sniper_app.remote.auth import PAIRINGS_FILE, Backoff, Pairings
from sniper_app.remote.certs import Identity, ensure_identity
from sniper_app.remote.client import Connected, Disconnected, RemoteClient, RemoteError, pair, pinned_context
from sniper_app.remote.credentials import RemoteLink, forget_link, load_link, save_link
from sniper_app.remote.invite import Address, Invite, InviteError, format_invite, parse_invite
from sniper_app.remote.server import CallRefused, EventHub, RemoteServer, RemoteServerError, build_app

WAIT = 10.0


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    """Wraps the box's app and notes every request that reaches HTTP: path, headers and body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        entry = (scope["type"], scope["path"], headers, b"")
        self.seen.append(entry)
        index = len(self.seen) - 1

        async def recording_receive() -> Any:
            message = await receive()
            if message.get("type") == "http.request":
                kind, path, hdrs, body = self.seen[index]
                self.seen[index] = (kind, path, hdrs, body + message.get("body", b""))
            return message

        await self.app(scope, recording_receive, send)


@dataclass
class Box:
    data_dir: Path
    identity: Identity
    pairings: Pairings
    hub: EventHub
    clock: Clock
    recorder: Recorder
    server: RemoteServer
    calls: dict[str, Any] = field(default_factory=dict)

    @property
    def address(self) -> Address:
        return Address("127.0.0.1", self.server.port)

    def invite(self) -> str:
        return format_invite(Invite(self.address, self.identity.fingerprint, self.pairings.new_invite()))


async def echo(args: dict[str, Any]) -> Any:
    if args.get("refuse"):
        raise CallRefused("That snipe does not exist.", status=404, code="not_found")
    return {"echo": args}


@asynccontextmanager
async def box(data_dir: Path, port: int = 0, clock: Clock | None = None) -> AsyncIterator[Box]:
    identity = ensure_identity(data_dir)
    pairings = Pairings(data_dir)
    hub = EventHub()
    clock = clock or Clock()
    app = build_app(pairings, Backoff(clock=clock), events=hub, calls={"echo": echo})
    recorder = Recorder(app)
    server = RemoteServer(recorder, identity, "127.0.0.1", port)
    await server.start()
    try:
        yield Box(data_dir, identity, pairings, hub, clock, recorder, server)
    finally:
        await server.stop()


async def next_of(stream: AsyncIterator[Any], kind: type | None = None) -> Any:
    """The next item of ``stream`` (of ``kind`` when given), or a failure after WAIT seconds."""
    async with asyncio.timeout(WAIT):
        while True:
            item = await anext(stream)
            if kind is None or isinstance(item, kind):
                return item


def test_an_invite_pairs_and_the_token_reads_the_status(tmp_path: Path) -> None:
    async def main() -> None:
        async with box(tmp_path) as b:
            paired = await pair(b.invite(), "desk")
            async with RemoteClient(paired.address, paired.fingerprint, paired.token) as client:
                status = await client.status()
                assert status["engine_running"] is False
                assert status["version"]
                assert await client.call("echo", {"n": 1}) == {"echo": {"n": 1}}
            stored = (tmp_path / PAIRINGS_FILE).read_text()
            assert paired.token not in stored
            assert hashlib.sha256(paired.token.encode()).hexdigest() in stored
            pair_request = next(r for r in b.recorder.seen if r[1] == "/v1/pair")
            assert "authorization" not in pair_request[2]

    asyncio.run(main())


def test_an_invite_is_spent_by_its_first_use(tmp_path: Path) -> None:
    async def main() -> None:
        async with box(tmp_path) as b:
            invite = b.invite()
            await pair(invite)
            with pytest.raises(RemoteError) as refused:
                await pair(invite)
            assert refused.value.status == 403
            assert "already used" in refused.value.message

    asyncio.run(main())


def test_a_tampered_invite_is_refused_before_any_connection(tmp_path: Path) -> None:
    async def main() -> None:
        async with box(tmp_path) as b:
            invite = b.invite()
            at = len(invite) // 2
            tampered = invite[:at] + ("A" if invite[at] != "A" else "B") + invite[at + 1 :]
            with pytest.raises(InviteError, match="damaged or incomplete"):
                await pair(tampered)
            assert b.recorder.seen == []
            assert b.pairings.pending_invites() == 1

    asyncio.run(main())


def test_a_wrong_fingerprint_is_refused_before_any_request(tmp_path: Path) -> None:
    async def main() -> None:
        async with box(tmp_path) as b:
            good = parse_invite(b.invite())
            wrong = Invite(good.address, hashlib.sha256(b"another box").hexdigest(), good.secret)
            with pytest.raises(RemoteError) as refused:
                await pair(format_invite(wrong))
            assert refused.value.kind == "fingerprint"
            assert "nothing was sent" in refused.value.message
            assert b.recorder.seen == [], "not even a request line reached the box"
            assert b.pairings.pending_invites() == 1, "the secret was not spent"

    asyncio.run(main())


def test_a_box_with_another_certificate_gets_no_token(tmp_path: Path) -> None:
    """A paired desktop meets a different box on the same address: neither HTTP nor WebSocket sends."""

    async def main() -> None:
        async with box(tmp_path / "real") as real:
            paired = await pair(real.invite())
            port = real.server.port
        async with box(tmp_path / "impostor", port=port) as impostor:
            client = RemoteClient(paired.address, paired.fingerprint, paired.token)
            with pytest.raises(RemoteError) as refused:
                await client.status()
            assert refused.value.kind == "fingerprint"
            with pytest.raises(RemoteError) as refused_ws:
                await next_of(client.events())
            assert refused_ws.value.kind == "fingerprint"
            await client.aclose()
            assert impostor.recorder.seen == []

    asyncio.run(main())


def test_a_certificate_swapped_after_pinning_is_refused_by_the_handshake(tmp_path: Path) -> None:
    """The pin holds on every connection, not just the first: the client's context trusts one certificate."""

    async def main() -> None:
        async with box(tmp_path / "real") as real:
            paired = await pair(real.invite())
            client = RemoteClient(paired.address, paired.fingerprint, paired.token)
            await client.status()
            port = real.server.port
        async with box(tmp_path / "impostor", port=port) as impostor:
            with pytest.raises(RemoteError) as refused:
                await client.status()
            assert refused.value.kind == "fingerprint"
            assert impostor.recorder.seen == []
            await client.aclose()

    asyncio.run(main())


def test_a_wrong_or_missing_token_gets_401_with_a_sentence(tmp_path: Path) -> None:
    async def main() -> None:
        async with box(tmp_path) as b:
            await pair(b.invite())
            client = RemoteClient(b.address, b.identity.fingerprint, "not-the-token")
            with pytest.raises(RemoteError) as refused:
                await client.status()
            assert refused.value.status == 401
            assert refused.value.kind == "unauthorized"
            assert refused.value.message.startswith("This desktop is not paired")
            with pytest.raises(RemoteError) as refused_ws:
                await next_of(client.events())
            assert refused_ws.value.status == 401
            assert "not paired" in refused_ws.value.message
            await client.aclose()
            async with httpx.AsyncClient(verify=pinned_context(b.identity.cert_der), trust_env=False) as raw:
                reply = await raw.get(f"https://127.0.0.1:{b.server.port}/v1/status")
            assert reply.status_code == 401
            assert reply.json()["error"].endswith(".")
            assert reply.headers["www-authenticate"].startswith("Bearer")

    asyncio.run(main())


def test_repeated_wrong_tokens_are_slowed_and_then_heard_again(tmp_path: Path) -> None:
    async def main() -> None:
        async with box(tmp_path) as b:
            paired = await pair(b.invite())
            good = RemoteClient(paired.address, paired.fingerprint, paired.token)
            bad = RemoteClient(paired.address, paired.fingerprint, "guess")
            for _ in range(5):  # the free failures
                with pytest.raises(RemoteError) as refused:
                    await bad.status()
                assert refused.value.status == 401
            with pytest.raises(RemoteError):
                await bad.status()  # the sixth locks this address for a second of the box's clock
            for client in (bad, good):  # while locked, the box does not even look at the token
                with pytest.raises(RemoteError) as slowed:
                    await client.status()
                assert slowed.value.status == 429
                assert slowed.value.retry_after == 1.0
                assert slowed.value.message == "Too many failed attempts from this address; try again in 1 s."
            b.clock.now += 1.0
            assert (await good.status())["engine_running"] is False
            with pytest.raises(RemoteError) as refused:
                await bad.status()
            assert refused.value.status == 401, "a success cleared the record: the free failures are back"
            await good.aclose()
            await bad.aclose()

    asyncio.run(main())


def test_bad_requests_get_a_4xx_sentence_in_json(tmp_path: Path) -> None:
    async def main() -> None:
        async with box(tmp_path) as b:
            paired = await pair(b.invite())
            headers = {"Authorization": f"Bearer {paired.token}"}
            base = f"https://127.0.0.1:{b.server.port}"
            async with httpx.AsyncClient(verify=pinned_context(b.identity.cert_der), trust_env=False) as raw:
                cases = [
                    await raw.get(f"{base}/v1/nothing", headers=headers),
                    await raw.post(f"{base}/v1/pair", content=b"{not json"),
                    await raw.post(f"{base}/v1/pair", json=["a"]),
                    await raw.post(f"{base}/v1/pair", json={"secret": 5}),
                    await raw.get(f"{base}/v1/pair"),
                    await raw.post(f"{base}/v1/call/echo", headers=headers, json={"args": [1]}),
                    await raw.post(f"{base}/v1/call/delete_everything", headers=headers, json={}),
                    await raw.post(f"{base}/v1/pair", content=b"{" + b" " * 1_000_001 + b"}"),
                    await raw.post(f"{base}/v1/call/echo", headers=headers, json={"args": {"refuse": True}}),
                ]
            assert [r.status_code for r in cases] == [404, 400, 400, 400, 405, 400, 404, 413, 404]
            for reply in cases:
                sentence = reply.json()["error"]
                assert sentence[0].isupper(), sentence
                assert sentence.endswith("."), sentence
            assert cases[-1].json() == {"error": "That snipe does not exist.", "code": "not_found"}

    asyncio.run(main())


def test_events_arrive_over_the_websocket(tmp_path: Path) -> None:
    async def main() -> None:
        async with box(tmp_path) as b:
            paired = await pair(b.invite())
            client = RemoteClient(paired.address, paired.fingerprint, paired.token)
            stream = client.events(first_delay=0.05)
            hello = await next_of(stream, Connected)
            assert hello.hello["type"] == "hello"
            b.hub.publish({"type": "snipe_status", "snipe_id": 7, "new": "WON"})
            assert await next_of(stream) == {"type": "snipe_status", "snipe_id": 7, "new": "WON"}
            ws_request = next(r for r in b.recorder.seen if r[0] == "websocket")
            assert ws_request[2]["authorization"] == f"Bearer {paired.token}"
            await stream.aclose()
            await client.aclose()

    asyncio.run(main())


def test_a_restarted_box_is_reconnected_with_the_same_certificate(tmp_path: Path) -> None:
    async def main() -> None:
        async with box(tmp_path) as b:
            paired = await pair(b.invite())
            client = RemoteClient(paired.address, paired.fingerprint, paired.token)
            stream = client.events(first_delay=0.05, max_delay=0.2)
            await next_of(stream, Connected)
            port, fingerprint = b.server.port, b.identity.fingerprint
        lost = await next_of(stream, Disconnected)
        assert lost.retry_in <= 0.2 * 1.2
        async with box(tmp_path, port=port) as again:
            assert again.identity.fingerprint == fingerprint
            await next_of(stream, Connected)
            again.hub.publish({"type": "after_restart"})
            assert await next_of(stream, dict) == {"type": "after_restart"}
            assert (await client.status())["version"]
        await stream.aclose()
        await client.aclose()

    asyncio.run(main())


def test_a_slow_subscriber_is_cut_off_and_reconnects(tmp_path: Path) -> None:
    async def main() -> None:
        async with box(tmp_path) as b:
            b.hub.maxsize = 3
            paired = await pair(b.invite())
            client = RemoteClient(paired.address, paired.fingerprint, paired.token)
            stream = client.events(first_delay=0.05)
            await next_of(stream, Connected)
            for n in range(10):  # published in one go on the box's loop: the subscriber cannot keep up
                b.hub.publish({"n": n})
            lost = await next_of(stream, Disconnected)
            assert "fell behind" in lost.reason
            await next_of(stream, Connected)
            b.hub.publish({"n": "fresh"})
            assert await next_of(stream, dict) == {"n": "fresh"}
            await stream.aclose()
            await client.aclose()

    asyncio.run(main())


def test_the_link_is_kept_in_the_secret_store(isolated_dirs: Path) -> None:
    secrets = SecretStore("production", vault=KeyringVault())
    link = RemoteLink(Address("192.168.1.20", 8731), "ab" * 32, "tok-" + "x" * 40)
    assert load_link(secrets) is None
    save_link(secrets, link)
    assert load_link(secrets) == link
    assert link.token not in repr(link)
    keyring_file = json.loads((isolated_dirs / "keyring.json").read_text())
    assert "sniper-app/remote" in json.dumps(keyring_file)
    forget_link(secrets)
    assert load_link(secrets) is None


def test_a_revoked_pairing_loses_its_open_stream(tmp_path: Path) -> None:
    async def main() -> None:
        async with box(tmp_path) as b:
            paired = await pair(b.invite())
            client = RemoteClient(paired.address, paired.fingerprint, paired.token)
            stream = client.events(first_delay=0.05)
            await next_of(stream, Connected)
            assert Pairings(tmp_path).revoke_all() == 1  # 'remote invite --revoke' in another process
            b.hub.publish({"type": "not for a revoked client"})
            seen: list[Any] = []
            try:
                while True:
                    seen.append(await next_of(stream))
            except RemoteError as exc:
                refused = exc
            assert not any(isinstance(item, dict) for item in seen), "no event reaches a revoked client"
            assert refused.kind == "unauthorized"
            await client.aclose()

    asyncio.run(main())


def test_a_port_in_use_is_a_sentence(tmp_path: Path) -> None:
    async def main() -> None:
        async with box(tmp_path) as b:
            second = RemoteServer(b.recorder, b.identity, "127.0.0.1", b.server.port)
            with pytest.raises(RemoteServerError, match=r"cannot listen on 127\.0\.0\.1:\d+: .*pick another port"):
                await second.start()

    asyncio.run(main())


def test_guessing_pairing_secrets_is_slowed_too(tmp_path: Path) -> None:
    async def main() -> None:
        async with box(tmp_path) as b:
            real = parse_invite(b.invite())
            guesser = RemoteClient(real.address, real.fingerprint)
            for _ in range(6):
                with pytest.raises(RemoteError) as refused:
                    await guesser.pair("x" * 43)
                assert refused.value.status == 403
            with pytest.raises(RemoteError) as slowed:
                await guesser.pair(real.secret)
            assert slowed.value.status == 429
            assert b.pairings.pending_invites() == 1, "a locked-out address spends no invite"
            b.clock.now += 1.0
            assert await guesser.pair(real.secret)
            await guesser.aclose()

    asyncio.run(main())
