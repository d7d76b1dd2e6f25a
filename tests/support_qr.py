"""QR codes read back: the modules of a segno SVG (as the API serves it) and a decoder
(zxing-cpp) for module matrices and for pixels read from a page."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import unquote
from xml.etree import ElementTree

import numpy as np
import zxingcpp

SVG_URI = "data:image/svg+xml;charset=utf-8,"
SVG = "{http://www.w3.org/2000/svg}"


def svg_of(data_uri: str) -> ElementTree.Element:
    """The SVG element of a ``data:image/svg+xml`` URI (it must parse as XML)."""
    assert data_uri.startswith(SVG_URI), data_uri[:60]
    return ElementTree.fromstring(unquote(data_uri[len(SVG_URI):]))  # noqa: S314 (ours)


def svg_modules(data_uri: str) -> list[list[bool]]:
    """The dark modules drawn by a segno SVG: its path of horizontal runs, one row each
    (``M x y`` then ``h n`` for n dark modules, ``m dx dy`` to move), quiet zone included."""
    svg = svg_of(data_uri)
    [background] = [p for p in svg.iter(f"{SVG}path") if p.get("fill")]
    size = int(re.match(r"M0 0h(\d+)", background.get("d", "")).group(1))  # type: ignore[union-attr]
    [dark] = [p for p in svg.iter(f"{SVG}path") if p.get("stroke")]
    grid = [[False] * size for _ in range(size)]
    x = y = 0.0
    for op, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", dark.get("d", "")):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            for col in range(int(x), int(x + float(a))):
                grid[int(y)][col] = True
            x += float(a)
    return grid


def decode_modules(grid: Sequence[Sequence[bool]], scale: int = 4) -> str | None:
    """The text a decoder reads from a module matrix drawn black on white."""
    image = np.where(np.array(grid, dtype=bool), 0, 255).astype(np.uint8)
    return decode_pixels(np.kron(image, np.ones((scale, scale), dtype=np.uint8)))


def decode_pixels(gray: np.ndarray) -> str | None:
    """The text of the QR code in a grey image (rows × columns, 0-255), if one is read."""
    found = zxingcpp.read_barcode(np.ascontiguousarray(gray, dtype=np.uint8),
                                  formats=zxingcpp.BarcodeFormat.QRCode)
    return found.text if found is not None and found.valid else None
