"""What an uploaded file really is, read from its first bytes (never from its name)."""

from __future__ import annotations

SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


def sniff_content_type(content: bytes) -> str:
    """The media type the content's signature says, or application/octet-stream."""
    for signature, media_type in SIGNATURES:
        if content.startswith(signature):
            return media_type
    return "application/octet-stream"
