"""Reading back a QR code drawn as inline SVG (segno), so a test checks what a phone would scan
rather than that some `<svg>` is present."""

from __future__ import annotations

import re

import zxingcpp
from PIL import Image

SVG = re.compile(
    r'<svg width="(\d+)"[^>]*>.*?<path transform="scale\((\d+)\)"[^>]* d="([^"]+)"', re.S
)
STEP = re.compile(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?")
PX = 4  # pixels per module


def decode_svg_qr(page: str) -> list[str]:
    """The text of every QR code segno drew as `<svg>` on `page`, decoded by zxing."""
    found = []
    for width, scale, path in SVG.findall(page):
        size = int(width) // int(scale)
        image = Image.new("L", (size * PX,) * 2, 255)
        x = y = 0.0
        for command, first, second in STEP.findall(path):
            if command == "M":
                x, y = float(first), float(second)
            elif command == "m":
                x, y = x + float(first), y + float(second)
            else:  # h: a dark run along the row, filled module by module
                run = float(first)
                row, start, end = int(y), int(x), int(x + run)
                image.paste(0, (start * PX, row * PX, end * PX, (row + 1) * PX))
                x += run
        found += [code.text for code in zxingcpp.read_barcodes(image)]
    return found
