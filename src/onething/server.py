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


def run_server(*, host: str, port: int, workers: int, threads: int) -> int:
    OneThingServer(
        {
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
    ).run()
    return 0
