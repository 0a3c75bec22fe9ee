"""An SNTP server (RFC 4330, server mode) answering with the simulator's clock, on its own thread.

A thread of its own keeps the receive/transmit stamps honest when the HTTP loop is busy.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading

from .sim_clock import SimClock

NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900-01-01 to 1970-01-01
_PACKET = struct.Struct("!BBbbIII8s8s8s8s")


def to_ntp(epoch: float) -> bytes:
    seconds = int(epoch) + NTP_EPOCH_OFFSET
    fraction = int((epoch - int(epoch)) * 2**32) & 0xFFFFFFFF
    return struct.pack("!II", seconds & 0xFFFFFFFF, fraction)


def from_ntp(raw: bytes) -> float:
    seconds, fraction = struct.unpack("!II", raw)
    return float(seconds - NTP_EPOCH_OFFSET + fraction / 2**32)


class SntpServer:
    """UDP responder: copies the client's transmit stamp into originate, stamps receive/transmit."""

    def __init__(self, clock: SimClock, host: str = "127.0.0.1", port: int = 0) -> None:
        self.clock = clock
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.sock.settimeout(0.2)
        self.address: tuple[str, int] = self.sock.getsockname()[:2]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="sim-sntp", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        # An empty datagram to ourselves wakes the blocking recvfrom at once.
        with contextlib.suppress(OSError):
            self.sock.sendto(b"", self.address)
        self._thread.join(timeout=2)
        self.sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(512)
            except TimeoutError:
                continue
            except OSError:
                return
            received = self.clock.now()
            reply = self.answer(data, received)
            if reply is not None:
                try:
                    self.sock.sendto(reply, peer)
                except OSError:
                    continue

    def answer(self, data: bytes, received: float) -> bytes | None:
        if len(data) < 48:
            return None
        first = data[0]
        version = (first >> 3) & 0x7
        mode = first & 0x7
        if mode != 3 or version < 1:  # only client requests get an answer
            return None
        poll = data[2]
        client_transmit = data[40:48]
        ref_id = b"GPS\x00"
        stamp_recv = to_ntp(received)
        head = struct.pack("!BBBb", (0 << 6) | (version << 3) | 4, 1, poll, -20)
        # root delay 0, root dispersion ~1 ms (16.16 fixed point)
        roots = struct.pack("!II", 0, 66)
        transmit = to_ntp(self.clock.now())
        return head + roots + ref_id + stamp_recv + client_transmit + stamp_recv + transmit
