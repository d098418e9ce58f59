"""Real receivers on loopback for notification tests: an HTTP server and an SMTP server.

All record what they receive. The HTTP receiver can answer any status, answer slowly, or be
stopped and started again on the same port (a receiver that is down, then back). The Slack
stand-in speaks the two Web API methods tokenry calls.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.live import free_port


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 answering POSTs and GETs (an empty body) with
    :meth:`respond`; it can be stopped and started again on the same port (a receiver that is
    down, then back)."""

    def __init__(self) -> None:
        self.port = 0  # the first start picks a free port; restarts reuse it
        self._server: ThreadingHTTPServer | None = None

    def respond(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        raise NotImplementedError

    def start(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                owner.respond(self, self.rfile.read(int(self.headers.get("Content-Length", "0"))))

            def do_GET(self) -> None:
                owner.respond(self, b"")

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the test output clean

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Close the socket: connections are refused until :meth:`start`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class HttpReceiver(LoopbackServer):
    def __init__(self) -> None:
        super().__init__()
        self.status = 200
        self.delay = 0.0  # seconds before answering, to let concurrent workers overlap
        self._requests: list[Received] = []
        self._lock = threading.Lock()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def requests(self) -> list[Received]:
        with self._lock:
            return list(self._requests)

    def respond(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        with self._lock:
            self._requests.append(Received(
                request.path, {k.lower(): v for k, v in request.headers.items()}, body))
        time.sleep(self.delay)
        request.send_response(self.status)
        request.send_header("Content-Length", "0")
        request.end_headers()


@dataclass(frozen=True)
class Mail:
    recipients: list[str]
    message: EmailMessage
    login: str | None


class SmtpReceiver:
    """An aiosmtpd server that accepts any message, and any login without TLS (loopback only)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[Mail] = []
        self._controller: Controller | None = None
        self._running = False

    def start(self) -> None:
        """Listen on :attr:`port`; after :meth:`stop`, again on the same port (a controller's
        event loop is closed once stopped, so each start builds a new one)."""
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port,
                                      authenticator=self._authenticate, auth_require_tls=False)
        self._controller.start()
        self._running = True

    def stop(self) -> None:
        """Connections are refused from now on."""
        if self._running and self._controller is not None:
            self._controller.stop()
            self._running = False

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope,
                      mechanism: str, data: Any) -> AuthResult:
        return AuthResult(success=isinstance(data, LoginPassword), auth_data=data)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = BytesParser(policy=policy.default).parsebytes(content)
        assert isinstance(message, EmailMessage)
        data: Any = session.auth_data
        login = data.login.decode() if isinstance(data, LoginPassword) else None
        self.messages.append(Mail([str(r) for r in envelope.rcpt_tos], message, login))
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class SlackMessage:
    channel: str
    text: str


class SlackStandIn(LoopbackServer):
    """A local stand-in for Slack's Web API, speaking the two methods tokenry uses.

    ``users.lookupByEmail`` (form-encoded ``email``) answers the user's id, or
    ``{"ok": false, "error": "users_not_found"}``; ``chat.postMessage`` (JSON ``channel`` and
    ``text``) records the message. Both refuse a bot token other than :attr:`token` with
    ``invalid_auth``, as Slack does (HTTP 200 with ``ok: false``).
    """

    def __init__(self, token: str = "xoxb-test-bot-token") -> None:  # noqa: S107
        super().__init__()
        self.token = token
        self.users: dict[str, str] = {}  # email -> Slack user id
        self.messages: list[SlackMessage] = []
        self.calls: list[str] = []

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def add_user(self, email: str) -> str:
        self.users[email] = f"U{len(self.users) + 1:08d}"
        return self.users[email]

    def dms_to(self, email: str) -> list[str]:
        user_id = self.users.get(email)
        return [m.text for m in self.messages if m.channel == user_id]

    def _answer(self, method: str, authorization: str, body: bytes,
                content_type: str) -> dict[str, Any]:
        self.calls.append(method)
        if authorization != f"Bearer {self.token}":
            return {"ok": False, "error": "invalid_auth"}
        if method == "users.lookupByEmail":
            from urllib.parse import parse_qs

            email = parse_qs(body.decode()).get("email", [""])[0]
            if email not in self.users:
                return {"ok": False, "error": "users_not_found"}
            return {"ok": True, "user": {"id": self.users[email], "profile": {"email": email}}}
        if method == "chat.postMessage":
            if not content_type.startswith("application/json"):
                return {"ok": False, "error": "invalid_arguments"}
            sent = json.loads(body)
            if sent.get("channel") not in self.users.values():
                return {"ok": False, "error": "channel_not_found"}
            self.messages.append(SlackMessage(sent["channel"], sent["text"]))
            return {"ok": True, "channel": sent["channel"], "ts": f"{len(self.messages)}.0001"}
        return {"ok": False, "error": "unknown_method"}

    def respond(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        answer = self._answer(request.path.rsplit("/", 1)[-1],
                              request.headers.get("Authorization", ""), body,
                              request.headers.get("Content-Type", ""))
        encoded = json.dumps(answer).encode()
        request.send_response(200)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(encoded)))
        request.end_headers()
        request.wfile.write(encoded)
