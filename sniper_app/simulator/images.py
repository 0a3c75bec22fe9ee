"""Small generated PNG thumbnails for the simulator's listings (no image files shipped)."""

from __future__ import annotations

import struct
import zlib
from functools import lru_cache

_PALETTE = [
    (0x2E, 0x86, 0xAB), (0xA2, 0x3B, 0x72), (0xF1, 0x8F, 0x01), (0xC7, 0x3E, 0x1D),
    (0x3B, 0x1F, 0x2B), (0x44, 0xAF, 0x69), (0x6C, 0x5B, 0x7B), (0xE0, 0x7A, 0x5F),
    (0x3D, 0x40, 0x5B), (0x81, 0xB2, 0x9A), (0xF2, 0xCC, 0x8F), (0x26, 0x54, 0x7C),
]
SIZE = 96


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


@lru_cache(maxsize=256)
def thumbnail_png(n: int) -> bytes:
    """A 96×96 PNG: a coloured tile with a lighter shape that differs by ``n`` (circle, diamond, bars)."""
    bg = _PALETTE[n % len(_PALETTE)]
    fg = tuple(min(255, c + 90) for c in bg)
    shape = (n // len(_PALETTE) + n) % 3
    rows = bytearray()
    half = SIZE / 2
    for y in range(SIZE):
        rows.append(0)
        for x in range(SIZE):
            dx, dy = x - half + 0.5, y - half + 0.5
            if shape == 0:
                inside = dx * dx + dy * dy < (SIZE * 0.3) ** 2
            elif shape == 1:
                inside = abs(dx) + abs(dy) < SIZE * 0.34
            else:
                inside = abs(dy) < SIZE * 0.3 and int(x // 12) % 2 == 0 and abs(dx) < SIZE * 0.36
            rows.extend(fg if inside else bg)
    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + _chunk(
        b"IEND", b""
    )
