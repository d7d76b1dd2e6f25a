"""QR codes of sign-in links, drawn on the server (segno, pure Python) as SVG data URIs."""

from __future__ import annotations

import segno

#: pixels per module: a link's code (version 5 or so, 45 modules with the border) is 270 px
SCALE = 6


def qr_svg(text: str) -> str:
    """``text`` as a QR code (error correction M, or better if it fits), black on white with
    the standard 4-module quiet zone: a ``data:image/svg+xml`` URI."""
    code = segno.make(text, error="m", micro=False)
    return str(code.svg_data_uri(scale=SCALE, border=4, dark="#000", light="#fff",
                                 title="Sign-in link"))
