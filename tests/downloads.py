"""What a download holds, whether it was sent whole or streamed while its rows were written."""

from __future__ import annotations


def downloaded(response) -> bytes:
    """The body of a test client's response: a streamed one read to its end, once (a stream
    can be read only once; the body is kept on the response for the next look)."""
    if not getattr(response, "streaming", False):
        return response.content
    if not hasattr(response, "downloaded_body"):
        response.downloaded_body = b"".join(response.streaming_content)
    return response.downloaded_body
