"""Log records without personal numbers, and one JSON line per record for structured logs.

Every handler the project configures carries `MaskPersonalNumbers` (settings.LOGGING, and
gunicorn's own loggers in `onething.server`), so a resident ID number or a mobile number that
reaches a log line (a URL, an exception message, a Host header) is written masked.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from onething.core.masking import mask_personal_numbers

# What every LogRecord has: anything else on a record came from `extra=`.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
}
_traceback_formatter = logging.Formatter()


class MaskPersonalNumbers(logging.Filter):
    """Masks resident ID numbers and mobile numbers in the message, the traceback and every
    string passed as `extra`; the record keeps its level and is never dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            # The handler would report the failure with the raw arguments: say it masked here.
            message = f"{record.msg} (arguments that do not fit the message: {record.args!r})"
        record.msg = mask_personal_numbers(message)
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = _traceback_formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_personal_numbers(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_personal_numbers(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRIBUTES and isinstance(value, str):
                setattr(record, key, mask_personal_numbers(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the request id when the
    record has one; masks personal numbers itself too, in case a handler lacks the filter."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_personal_numbers(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None) or getattr(
            getattr(record, "request", None), "request_id", None
        )
        if request_id:
            entry["request_id"] = str(request_id)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = mask_personal_numbers(record.exc_text)
        if record.stack_info:
            entry["stack"] = mask_personal_numbers(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False)
