"""Local stand-ins for the vendors' robot endpoints and a generic webhook receiver: each checks
the signature the way its vendor documents it (written out here from the vendor's formula, not
with the code under test), records what it received, and answers with the vendor's real codes:
success, "too fast", a bad signature, or whatever a test scripts next."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "tok-0123456789abcdef"  # the credential in a robot's URL
SECRET = "SECabcdef0123456789"


@dataclass
class Answer:
    status: int
    body: Any  # a dict (sent as JSON) or bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Robot:
    """One endpoint of ``kind`` (dingtalk, wecom, feishu, webhook)."""

    kind: str
    secret: str = SECRET
    received: list[dict[str, Any]] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    script: list[Answer] = field(default_factory=list)  # answers to give next, in order
    url: str = ""

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> Answer:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
        refusal = getattr(self, f"_check_{self.kind}")(query, headers, body)
        if refusal is not None:
            return refusal
        self.bodies.append(body)
        self.headers.append(headers)
        self.received.append(json.loads(body))
        return self.script.pop(0) if self.script else self._ok()

    def _ok(self) -> Answer:
        if self.kind == "dingtalk" or self.kind == "wecom":
            return Answer(200, {"errcode": 0, "errmsg": "ok"})
        if self.kind == "feishu":
            return Answer(200, {"code": 0, "msg": "success", "data": {}})
        return Answer(200, b"")

    # -- the vendors' checks -------------------------------------------------------------

    def _check_dingtalk(self, query: dict[str, list[str]], headers: Any, body: bytes) -> Any:
        if query.get("access_token") != [TOKEN]:
            return Answer(200, {"errcode": 300001, "errmsg": "token is not exist"})
        timestamp, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
        digest = hmac.new(self.secret.encode(), f"{timestamp}\n{self.secret}".encode(), "sha256")
        fresh = timestamp.isdigit() and abs(int(timestamp) / 1000 - time.time()) < 3600
        if not fresh or sign != base64.b64encode(digest.digest()).decode():
            return Answer(200, {"errcode": 310000, "errmsg": "sign not match"})
        return None

    def _check_wecom(self, query: dict[str, list[str]], headers: Any, body: bytes) -> Any:
        if query.get("key") != [TOKEN]:
            return Answer(200, {"errcode": 93000, "errmsg": "invalid webhook url"})
        content = json.loads(body).get("markdown", {}).get("content", "")
        if len(content.encode()) > 4096:
            return Answer(
                200, {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
            )
        return None

    def _check_feishu(self, query: dict[str, list[str]], headers: Any, body: bytes) -> Any:
        if len(body) > 20 * 1024:
            return Answer(200, {"code": 9499, "msg": "Bad Request"})
        sent = json.loads(body)
        timestamp = str(sent.get("timestamp", ""))
        key = f"{timestamp}\n{self.secret}".encode()
        expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
        fresh = timestamp.isdigit() and abs(int(timestamp) - time.time()) < 3600
        if not fresh or sent.get("sign") != expected:
            return Answer(
                200,
                {
                    "code": 19021,
                    "msg": "sign match fail or timestamp is not within one hour from current time",
                },
            )
        return None

    def _check_sms(self, query: dict[str, list[str]], headers: Any, body: bytes) -> Any:
        lowered = {key.lower(): value for key, value in headers.items()}
        if lowered.get("authorization") != f"Bearer {self.secret}":
            return Answer(401, {"error": "unauthorized"})
        return None

    def _check_webhook(self, query: dict[str, list[str]], headers: Any, body: bytes) -> Any:
        lowered = {key.lower(): value for key, value in headers.items()}
        if not lowered.get("idempotency-key"):
            return Answer(400, b"no Idempotency-Key")
        parts = dict(
            part.split("=", 1)
            for part in lowered.get("x-redline-signature", "").split(",")
            if "=" in part
        )
        signed = f"{parts.get('t', '')}.".encode() + body
        expected = hmac.new(self.secret.encode(), signed, hashlib.sha256).hexdigest()
        if parts.get("v1") != expected:
            return Answer(401, b"bad signature")
        return None


@contextmanager
def serving(robot: Robot) -> Iterator[Robot]:
    """``robot`` on a loopback port of its own until the block ends; sets ``robot.url`` to the
    address its vendor would give (with the token where the vendor puts it)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            answer = robot.answer(self.path, dict(self.headers), self.rfile.read(length))
            body = (
                answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
            )
            self.send_response(answer.status)
            for key, value in answer.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    robot.url = {
        "dingtalk": f"{base}/robot/send?access_token={TOKEN}",
        "wecom": f"{base}/cgi-bin/webhook/send?key={TOKEN}",
        "feishu": f"{base}/open-apis/bot/v2/hook/{TOKEN}",
        "webhook": f"{base}/redline",
        "sms": f"{base}/sms/send",
    }[robot.kind]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield robot
    finally:
        server.shutdown()
        server.server_close()
