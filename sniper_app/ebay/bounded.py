"""Read a reply body with a cap on its decoded size, decompressing as it streams in.

httpx inflates each network chunk whole, so a few kilobytes of gzip can become hundreds of megabytes in one
step; here every step of zlib is told how much it may produce, and reading stops past the cap.
"""

from __future__ import annotations

import zlib
from typing import Protocol

import httpx

from sniper_app.ebay.errors import BadResponse

# eBay's largest replies (a full watch list, an item with every aspect) are a few hundred kilobytes.
MAX_REPLY_BYTES = 10_000_000


class _Stage(Protocol):
    def feed(self, data: bytes, room: int) -> bytes: ...

    def finish(self) -> None: ...


class _Identity:
    def feed(self, data: bytes, room: int) -> bytes:
        return data

    def finish(self) -> None:
        pass


class _Inflate:
    """gzip (one member or several) or zlib/raw deflate, producing at most ``room`` + 1 bytes per call."""

    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._started = False
        self._raw = False
        self._decoder = self._new()

    def _new(self) -> zlib._Decompress:
        if self._raw:
            return zlib.decompressobj(-zlib.MAX_WBITS)
        return zlib.decompressobj(zlib.MAX_WBITS | (16 if self._gzip else 32))

    def feed(self, data: bytes, room: int) -> bytes:
        out = bytearray()
        while data and len(out) <= room:
            try:
                out += self._decoder.decompress(data, room - len(out) + 1)
            except zlib.error:
                if self._gzip or self._started:
                    raise
                # "deflate" is sometimes sent raw, without the zlib header.
                self._raw = True
                self._decoder = self._new()
                continue
            self._started = True
            data = self._decoder.unconsumed_tail
            if self._decoder.eof:
                data = self._decoder.unused_data
                if data:
                    self._decoder = self._new()
        return bytes(out)

    def finish(self) -> None:
        if self._started and not self._decoder.eof:
            raise zlib.error("the compressed data ends early")


def _stages(encoding: str) -> list[_Stage]:
    stages: list[_Stage] = []
    # Content-Encoding lists codings in the order applied: undo them in reverse.
    for name in reversed([part.strip().lower() for part in encoding.split(",") if part.strip()]):
        if name in ("gzip", "x-gzip"):
            stages.append(_Inflate(gzip=True))
        elif name == "deflate":
            stages.append(_Inflate(gzip=False))
        # identity and codings the app never asks for are passed through, as httpx does.
    return stages or [_Identity()]


async def read_bounded(response: httpx.Response, what: str, limit: int = MAX_REPLY_BYTES) -> bytes:
    """The decoded body of a streamed ``response`` (also kept as ``response.content``); closes the response.

    Raises :class:`BadResponse` as soon as the decoded body would pass ``limit`` bytes, without reading on.
    """
    too_large = BadResponse(f"eBay's reply to {what} is implausibly large (over {limit // 1_000_000} MB).")
    try:
        stages = _stages(response.headers.get("content-encoding", ""))
        declared = response.headers.get("content-length", "")
        if isinstance(stages[0], _Identity) and declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise too_large
        body = bytearray()
        async for chunk in response.aiter_raw():
            for stage in stages:
                chunk = stage.feed(chunk, limit - len(body))
            body += chunk
            if len(body) > limit:
                raise too_large
        for stage in stages:
            stage.finish()
    except zlib.error:
        raise httpx.DecodingError(f"eBay's reply to {what} is not valid compressed data") from None
    finally:
        await response.aclose()
    content = bytes(body)
    # What aread() would have stored: the handlers read response.content / .json() as usual.
    response._content = content
    return content
