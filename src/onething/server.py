"""Runs the WSGI application under gunicorn, in-process (no config file needed)."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication


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


def _start_outbox_worker(worker) -> None:
    """gunicorn hook: run the outbox worker inside the (single) demo web process."""
    from onething.applications.services import deadline_schedule_sweep
    from onething.audit.tasks import audit_schedule_anchor
    from onething.outbox.worker import Worker

    Worker(f"demo-{worker.pid}").start_in_thread()
    audit_schedule_anchor()
    deadline_schedule_sweep()


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
        "graceful_timeout": 10,
        "timeout": 60,
        "proc_name": "onething",
    }
    if with_worker:
        options["post_worker_init"] = _start_outbox_worker
    OneThingServer(options).run()
    return 0
