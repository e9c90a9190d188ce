"""A stand-in for a department's system: an HTTP receiver that applies each Idempotency-Key once.

Run in the test process, so it outlives the worker processes a test kills.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.deliveries: Counter[str] = Counter()  # every request, by key
        self.applied: list[str] = []  # keys in the order they were applied
        self.payloads: dict[str, dict] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                key = self.headers["Idempotency-Key"]
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.lock:
                    receiver.deliveries[key] += 1
                    # The department's side of idempotency: a key seen before is a
                    # duplicate delivery, answered but not applied again.
                    duplicate = key in receiver.payloads
                    if not duplicate:
                        receiver.applied.append(key)
                        receiver.payloads[key] = body
                answer = json.dumps({"status": "duplicate" if duplicate else "applied"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def duplicates(self) -> int:
        with self.lock:
            return sum(n - 1 for n in self.deliveries.values())

    def seen(self) -> int:
        with self.lock:
            return sum(self.deliveries.values())

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
