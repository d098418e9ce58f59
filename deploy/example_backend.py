"""The example service behind nginx's forward auth: it answers every request with what it was
sent, so you can see the identity nginx passes on (``X-Tokenry-User-Id``, ``-User-Email``,
``-Account``, ``-Scopes``, ...). Standard library only.

    python example_backend.py [PORT [HOST]]      (default 8080 on every interface)

A real service would read those headers and trust them only from nginx: keep its port off
every network but nginx's.
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Echo(BaseHTTPRequestHandler):
    server_version = "example-backend"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        seen = {"method": self.command, "path": self.path,
                "headers": {name.lower(): value for name, value in self.headers.items()},
                "body": body.decode("utf-8", "replace")}
        payload = json.dumps(seen, indent=2).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write(f"example-backend: {format % args}\n")


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    host = sys.argv[2] if len(sys.argv) > 2 else ""
    ThreadingHTTPServer((host, port), Echo).serve_forever()


if __name__ == "__main__":
    main()
