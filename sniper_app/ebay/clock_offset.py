"""How far the local clock is from true time: a small SNTP client (RFC 4330) and reply-timestamp cross-checks.

offset_s > 0 means the server (true time) is ahead of the local clock: true = local + offset.
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from sniper_app.domain.errors import InputError
from sniper_app.ebay.errors import ClockUnavailable
from sniper_app.ebay.models import Timing

NTP_UNIX_DELTA = 2_208_988_800  # seconds from 1900-01-01 to 1970-01-01
_ERA = 1 << 32
_PACKET = struct.Struct("!BBbb11I")  # 48 bytes: flags, stratum, poll, precision, then 11 words
_VERSION = 4
_MODE_CLIENT = 3
_MODE_SERVER = 4


def to_ntp(unix: float) -> tuple[int, int]:
    """(seconds, fraction) of an NTP timestamp; seconds wrap modulo 2**32 (era 1 starts in 2036)."""
    total = unix + NTP_UNIX_DELTA
    seconds = int(total // 1)
    fraction = int((total - seconds) * _ERA)
    if fraction >= _ERA:  # rounding at the top of a second
        seconds, fraction = seconds + 1, 0
    return seconds % _ERA, fraction


def from_ntp(seconds: int, fraction: int) -> float:
    """Unix time of an NTP timestamp; a clear top bit means era 1 (2036–2104), per RFC 4330 section 3."""
    if not seconds & 0x8000_0000:
        seconds += _ERA
    return seconds - NTP_UNIX_DELTA + fraction / _ERA


@dataclass(frozen=True, slots=True)
class ClockSample:
    offset_s: float
    rtt_s: float
    measured_at: datetime
    server: str = ""
    stratum: int = 0


def parse_server(address: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port``; port 123 when omitted)."""
    text = address.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":") or "123"
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = text, "123"
    if not host or not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
        raise InputError(f"The time server '{address}' is not host:port, e.g. pool.ntp.org:123.")
    return host, int(port)


def _check_reply(data: bytes, sent: bytes) -> tuple[int, float, float]:
    """(stratum, t2, t3) of a valid server reply, else ClockUnavailable saying why."""
    if len(data) < 48:
        raise ClockUnavailable("The time server sent a truncated reply.")
    fields = _PACKET.unpack(data[:48])
    flags, stratum = fields[0], fields[1]
    leap, version, mode = flags >> 6, (flags >> 3) & 7, flags & 7
    words = fields[4:]
    if mode != _MODE_SERVER or version not in (3, 4):
        raise ClockUnavailable("The time server's reply is not an SNTP server reply.")
    if stratum == 0:
        code = data[12:16].decode("ascii", "replace").strip("\x00 ")
        raise ClockUnavailable(f"The time server refused to answer (kiss-o'-death {code or '?'}).")
    if stratum > 15 or leap == 3:
        raise ClockUnavailable("The time server is not synchronised.")
    if data[24:32] != sent[40:48]:
        raise ClockUnavailable("The time server's reply does not match the request.")
    rx_s, rx_f, tx_s, tx_f = words[7], words[8], words[9], words[10]
    if (tx_s, tx_f) == (0, 0) or (rx_s, rx_f) == (0, 0):
        raise ClockUnavailable("The time server's reply has no timestamps.")
    return stratum, from_ntp(rx_s, rx_f), from_ntp(tx_s, tx_f)


def sntp_sample(host: str, port: int, timeout_s: float = 1.0) -> ClockSample:
    """One SNTP exchange on a blocking socket, on the calling thread.

    Run off the event loop (see :func:`measure_offset`): a reply read by a busy loop (GUI thread frozen,
    GIL held) arrives late by however long the loop was busy, which skews the offset by half that delay.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ClockUnavailable(f"Cannot reach the time server {host}:{port} ({exc.strerror or exc}).") from None
    with sock:
        try:
            sock.connect(address)
        except OSError as exc:
            raise ClockUnavailable(f"Cannot reach the time server {host}:{port} ({exc.strerror or exc}).") from None
        sock.settimeout(timeout_s)
        wall1 = time.time()
        mono1 = time.monotonic()
        seconds, fraction = to_ntp(wall1)
        # A random low fraction part: the echo check then also defeats blind spoofing.
        fraction = (fraction & ~0xFFFF) | int.from_bytes(os.urandom(2), "big")
        packet = _PACKET.pack((_VERSION << 3) | _MODE_CLIENT, 0, 0, 0, *([0] * 9), seconds, fraction)
        t1 = from_ntp(seconds, fraction)
        try:
            sock.send(packet)
            data = sock.recv(512)
            mono4 = time.monotonic()  # taken before anything else can run on this thread
        except TimeoutError:
            raise ClockUnavailable(f"The time server {host}:{port} did not answer.") from None
        except OSError as exc:
            raise ClockUnavailable(f"The time server {host}:{port} is unreachable ({exc}).") from None
    t4 = t1 + (mono4 - mono1)
    stratum, t2, t3 = _check_reply(data, packet)
    offset = ((t2 - t1) + (t3 - t4)) / 2
    delay = (t4 - t1) - (t3 - t2)
    return ClockSample(
        offset_s=offset,
        rtt_s=max(delay, 0.0),
        measured_at=datetime.fromtimestamp(wall1 + (mono4 - mono1), UTC),
        server=f"{host}:{port}",
        stratum=stratum,
    )


def _measure_blocking(host: str, port: int, samples: int, timeout_s: float) -> ClockSample:
    best: ClockSample | None = None
    last_error: ClockUnavailable | None = None
    for _ in range(max(1, samples)):
        try:
            sample = sntp_sample(host, port, timeout_s)
        except ClockUnavailable as exc:
            last_error = exc
            if "kiss-o'-death" in str(exc):
                break
            continue
        if best is None or sample.rtt_s < best.rtt_s:
            best = sample
    if best is None:
        raise last_error or ClockUnavailable()
    return best


async def measure_offset(server: str, samples: int = 4, timeout_s: float = 1.0) -> ClockSample:
    """Several SNTP samples, taken on a worker thread; the one with the smallest round trip is the most
    trustworthy."""
    host, port = parse_server(server)
    return await asyncio.to_thread(_measure_blocking, host, port, samples, timeout_s)


# --- cross-check with reply timestamps ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OffsetEstimate:
    offset_s: float
    uncertainty_s: float
    source: str


@dataclass(frozen=True, slots=True)
class ClockCheck:
    agrees: bool
    difference_s: float
    allowed_s: float


def offset_from_server_time(
    server_time: datetime, timing: Timing, *, resolution_s: float = 0.001, source: str = "Timestamp"
) -> OffsetEstimate:
    """The server stamped its reply somewhere between our send and receive, truncated to ``resolution_s``."""
    server_mid = server_time.timestamp() + resolution_s / 2
    local_mid = timing.midpoint.timestamp()
    return OffsetEstimate(
        offset_s=server_mid - local_mid, uncertainty_s=timing.rtt_s / 2 + resolution_s / 2, source=source
    )


def offset_from_date_header(date_header: str, timing: Timing) -> OffsetEstimate | None:
    """An HTTP ``Date`` header (whole seconds) as a coarse estimate; None if unreadable."""
    try:
        when = parsedate_to_datetime(date_header)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return offset_from_server_time(when, timing, resolution_s=1.0, source="Date")


def cross_check(sample: ClockSample, estimate: OffsetEstimate, margin_s: float = 0.02) -> ClockCheck:
    """Whether SNTP and a reply timestamp agree within their combined uncertainty."""
    difference = estimate.offset_s - sample.offset_s
    allowed = estimate.uncertainty_s + sample.rtt_s / 2 + margin_s
    return ClockCheck(agrees=abs(difference) <= allowed, difference_s=difference, allowed_s=allowed)
