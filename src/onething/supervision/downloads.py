"""An export as an HTTP response to save, for the exports pages and the API alike."""

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse

from onething.supervision.services import Export

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def download(export: Export) -> HttpResponse | StreamingHttpResponse:
    """An export as a file to save: whole, or streamed while its rows are written."""
    content_type = CONTENT_TYPES[export.filename.rpartition(".")[2]]
    if isinstance(export.content, bytes):
        response = HttpResponse(export.content, content_type=content_type)
    else:
        response = StreamingHttpResponse(export.content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["Cache-Control"] = "no-store"
    return response
