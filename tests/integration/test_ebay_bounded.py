"""Reply bodies are read with a cap on their decoded size: a gzip bomb or a huge body costs bounded memory."""

from __future__ import annotations

import asyncio
import gzip
import json
import subprocess
import sys
import zlib
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sniper_app.ebay import BadResponse
from sniper_app.ebay.bounded import MAX_REPLY_BYTES, read_bounded
from tests.support.hostile import HostileServer

ITEM_PATH = "/buy/browse/v1/item/v1|123456789012|0"
TRADING_PATH = "/ws/api.dll"
TOKEN = json.dumps({"access_token": "probe-app-token", "expires_in": 7200})


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """About 1 MB of gzip that inflates to 1 GB of zeros (one member, as a hostile server would send)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"\0" * (1 << 20)
    parts = [packer.compress(zeros) for _ in range(1024)]
    parts.append(packer.flush())
    return b"".join(parts)


def _probe(server: HostileServer, call: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-m", "tests.support.reply_probe", server.base_url, call],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    outcome: dict[str, object] = json.loads(result.stdout)
    return outcome


@pytest.mark.parametrize(("path", "call"), [(ITEM_PATH, "item"), (TRADING_PATH, "watchlist")])
def test_a_gzip_bomb_is_refused_within_bounded_memory(
    hostile: HostileServer, isolated_dirs: Path, gzip_bomb: bytes, path: str, call: str
) -> None:
    hostile.answer("/identity/v1/oauth2/token", TOKEN)
    hostile.answer(path, gzip_bomb, headers={"content-encoding": "gzip"},
                   content_type="text/xml" if call == "watchlist" else "application/json")
    outcome = _probe(hostile, call)
    assert outcome["error"] == "BadResponse", outcome
    assert "implausibly large" in str(outcome["message"])
    assert float(str(outcome["rss_growth_mb"])) < 50, outcome


def test_a_huge_plain_body_is_refused_within_bounded_memory(hostile: HostileServer, isolated_dirs: Path) -> None:
    hostile.answer("/identity/v1/oauth2/token", TOKEN)
    hostile.answer(ITEM_PATH, b'{"title": "' + b"x" * 50_000_000 + b'"}')
    outcome = _probe(hostile, "item")
    assert outcome["error"] == "BadResponse", outcome
    assert float(str(outcome["rss_growth_mb"])) < 50, outcome


async def _read(server: HostileServer, body: bytes, encoding: str | None, limit: int) -> bytes:
    server.answer("/r", body, headers={"content-encoding": encoding} if encoding else {})
    async with httpx.AsyncClient() as http:
        response = await http.send(http.build_request("GET", server.base_url + "/r"), stream=True)
        data = await read_bounded(response, "a test", limit=limit)
        assert response.is_closed
        assert response.content == data
        return data


def _encode(data: bytes, encoding: str | None) -> bytes:
    if encoding == "gzip":
        # Two members: allowed by RFC 1952 and sent by some servers that compress in pieces.
        half = len(data) // 2
        return gzip.compress(data[:half]) + gzip.compress(data[half:])
    if encoding == "deflate":
        return zlib.compress(data)
    if encoding == "raw-deflate":
        packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        return packer.compress(data) + packer.flush()
    return data


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.one_of(st.binary(max_size=3000), st.integers(0, 5000).map(lambda n: b"a" * n)),
    encoding=st.sampled_from([None, "gzip", "deflate", "raw-deflate"]),
    limit=st.integers(1, 4000),
)
def test_the_decoded_body_is_exact_up_to_the_cap_and_refused_past_it(
    hostile: HostileServer, data: bytes, encoding: str | None, limit: int
) -> None:
    sent_as = "deflate" if encoding == "raw-deflate" else encoding
    body = _encode(data, encoding)
    if len(data) <= limit:
        assert asyncio.run(_read(hostile, body, sent_as, limit)) == data
    else:
        with pytest.raises(BadResponse, match="implausibly large"):
            asyncio.run(_read(hostile, body, sent_as, limit))


def test_a_declared_length_past_the_cap_is_refused_before_reading(hostile: HostileServer) -> None:
    with pytest.raises(BadResponse, match="implausibly large"):
        asyncio.run(_read(hostile, b"x" * 2000, None, 1000))
    assert MAX_REPLY_BYTES <= 20_000_000


@pytest.mark.parametrize(
    "body",
    [gzip.compress(b"hello world" * 50)[:-20], b"\x1f\x8bnot really gzip", b"plain text"],
    ids=["truncated", "bad header", "not compressed"],
)
def test_corrupt_gzip_is_a_decoding_error(hostile: HostileServer, body: bytes) -> None:
    with pytest.raises(httpx.DecodingError):
        asyncio.run(_read(hostile, body, "gzip", 1000))
