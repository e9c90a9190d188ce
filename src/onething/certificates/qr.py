"""QR codes as inline SVG (segno), for printing on a certificate. No Django import here."""

from __future__ import annotations

import segno


def qr_svg(url: str, *, title: str = "", scale: int = 4) -> str:
    """An `<svg>` element encoding `url` (error correction M, quiet zone of 4 modules)."""
    code = segno.make(url, error="m", micro=False)
    return code.svg_inline(scale=scale, title=title or None, svgclass="qr", lineclass=None)
