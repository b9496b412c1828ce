"""Local stand-ins for external paid services: a loopback HTTP server in a thread that records
every JSON POST and answers with the vendor's real protocol, supplied as a ``respond`` function."""
from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# respond(body) -> (status, content type or "", response bytes)
Respond = Callable[[dict], tuple[int, str, bytes]]


class LocalJSONServer:
    """Records ``{path, body, auth}`` per request in ``requests``; ``url`` ends in ``/v1``."""

    def __init__(self, respond: Respond):
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
                status, content_type, data = respond(body)
                try:  # the client may have timed out and gone (timeout tests)
                    self.send_response(status)
                    if content_type:
                        self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
