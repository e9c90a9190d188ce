"""Log records never carry a raw personal number; structured logs are one JSON object a line."""

from __future__ import annotations

import io
import json
import logging

from django.conf import settings
from gunicorn.config import Config

from onething.core.logging import JsonFormatter, MaskPersonalNumbers
from onething.server import MaskingLogger

RIC = "35020319900307001X"
MASKED = "3502************1X"


def record(msg="looked up %s", args=(RIC,), **extra) -> logging.LogRecord:
    made = logging.LogRecord("onething.test", logging.WARNING, __file__, 1, msg, args, None)
    made.__dict__.update(extra)
    return made


def written(handler_record: logging.LogRecord, formatter=None) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskPersonalNumbers())
    handler.setFormatter(formatter or logging.Formatter("%(levelname)s %(message)s %(who)s"))
    handler.handle(handler_record)
    return stream.getvalue()


def test_the_filter_masks_the_formatted_message_and_string_extras():
    line = written(record(who=f"by {RIC}", phone_number="13912345678"))
    assert line == f"WARNING looked up {MASKED} by {MASKED}\n"
    masked = record(who="x")
    MaskPersonalNumbers().filter(masked)
    assert (masked.msg, masked.args) == (f"looked up {MASKED}", ())


def test_the_filter_masks_a_traceback_and_keeps_the_record():
    try:
        raise ValueError(f"no person {RIC}")
    except ValueError:
        import sys

        failed = record(msg="failed", args=(), who="-")
        failed.exc_info = sys.exc_info()
    line = written(failed)
    assert "ValueError: no person " + MASKED in line
    assert RIC not in line


def test_a_message_that_does_not_fit_its_arguments_is_still_masked():
    line = written(record(msg="two %s %s", args=(RIC,), who="-"))
    assert RIC not in line
    assert MASKED in line


def test_the_json_formatter_writes_one_masked_object_with_the_request_id():
    class Request:
        request_id = "abc123"

    made = record(request=Request())
    entry = json.loads(JsonFormatter().format(made))
    assert entry["message"] == f"looked up {MASKED}"
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "onething.test"
    assert entry["request_id"] == "abc123"
    assert entry["time"].endswith("+00:00")
    assert "request_id" not in json.loads(JsonFormatter().format(record()))


def test_every_configured_handler_masks_and_django_loggers_have_none_of_their_own():
    for name, handler in settings.LOGGING["handlers"].items():
        assert "mask_personal_numbers" in handler.get("filters", []), name
    for name, logger in [("", logging.getLogger()), *logging.root.manager.loggerDict.items()]:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, logging.NullHandler) or type(handler).__module__.startswith(
                "_pytest"
            ):
                continue  # writes nothing; or pytest's own capture, added for the test run
            assert any(isinstance(f, MaskPersonalNumbers) for f in handler.filters), name
    for name in ("django", "django.request", "django.security.DisallowedHost", "django.server"):
        logger = logging.getLogger(name)
        assert logger.handlers == [] and logger.propagate, name


def test_gunicorn_error_and_access_logs_mask_too(capsys):
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("errorlog", "-")
    cfg.set("logger_class", MaskingLogger)
    assert cfg.logger_class is MaskingLogger
    log = MaskingLogger(cfg)
    try:
        log.setup(cfg)  # a reload: the filter is added again to the new handlers, once
        for handler in [*log.error_log.handlers, *log.access_log.handlers]:
            assert sum(isinstance(f, MaskPersonalNumbers) for f in handler.filters) == 1
        log.error_log.error("worker failed on %s", RIC)
        log.access_log.info('"%(r)s" %(s)s', {"r": f"GET /applications/{RIC}/ HTTP/1.1", "s": 404})
        out, err = capsys.readouterr()
        assert RIC not in out + err
        assert f"GET /applications/{MASKED}/ HTTP/1.1" in out
        assert f"worker failed on {MASKED}" in err
    finally:
        for logger in (log.error_log, log.access_log):
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
