"""A local HTTP stub of a provider's API (http.server on 127.0.0.1 in a thread) for offline tests.

Routes are (method, path prefix) -> handler(request) -> (status, JSON body). Every request is kept
(method, path, headers, body) so tests can assert what the SDK sent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class StubRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())

    def json(self) -> Any:
        return json.loads(self.body or b"{}")


Handler = Callable[[StubRequest], tuple[int, Any]]


@dataclass
class Stub:
    url: str
    routes: dict[tuple[str, str], Handler] = field(default_factory=dict)
    requests: list[StubRequest] = field(default_factory=list)

    def route(self, method: str, prefix: str, handler: Handler) -> None:
        self.routes[(method, prefix)] = handler


@contextmanager
def provider_stub() -> Iterator[Stub]:
    stub = Stub(url="")

    class RequestHandler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = StubRequest(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query),
                headers={k: v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            stub.requests.append(request)
            matches = [
                (prefix, handler)
                for (method, prefix), handler in stub.routes.items()
                if method == self.command and parts.path.startswith(prefix)
            ]
            if not matches:
                status, body = 404, {"error": {"type": "invalid_request_error", "message": "no route"}}
            else:
                _prefix, handler = max(matches, key=lambda match: len(match[0]))
                status, body = handler(request)
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_DELETE = _handle

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
