"""Runs the WSGI application under gunicorn, in-process (no config file needed)."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from onething.core.logging import MaskPersonalNumbers


class OneThingServer(BaseApplication):
    def __init__(self, options: dict) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from onething.wsgi import application

        return application


class MaskingLogger(Logger):
    """gunicorn's error and access logs (which carry URLs) keep their own handlers, outside
    Django's LOGGING: give each the same masking filter, again after a reload re-creates them."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if not any(isinstance(f, MaskPersonalNumbers) for f in handler.filters):
                    handler.addFilter(MaskPersonalNumbers())


def _start_outbox_worker(worker) -> None:
    """gunicorn hook: run the outbox worker inside the (single) demo web process."""
    from onething.applications.services import deadline_schedule_sweep
    from onething.audit.tasks import audit_schedule_anchor
    from onething.complaints.tasks import hotline_schedule_sweep
    from onething.outbox.worker import Worker
    from onething.ratings.tasks import ratings_schedule_sweep
    from onething.supervision.tasks import rollups_schedule_refresh, snapshot_schedule_check

    Worker(f"demo-{worker.pid}").start_in_thread()
    audit_schedule_anchor()
    deadline_schedule_sweep()
    hotline_schedule_sweep()
    ratings_schedule_sweep()
    rollups_schedule_refresh()
    snapshot_schedule_check()


def run_server(
    *, host: str, port: int, workers: int, threads: int, with_worker: bool = False
) -> int:
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "accesslog": "-",
        "errorlog": "-",
        "loglevel": "info",
        "logger_class": MaskingLogger,
        "graceful_timeout": 10,
        "timeout": 60,
        "proc_name": "onething",
    }
    if with_worker:
        options["post_worker_init"] = _start_outbox_worker
    OneThingServer(options).run()
    return 0
