#!/usr/bin/env python3
"""A tiny app behind Switchboard, in plain Python (standard library only).

- POST /handle: Switchboard's HANDLER_URL. Checks the signature, then answers each client message with
  {"echo": <data>, "user": <user id>} -- which Switchboard sends back to that connection as the reply.
- POST /events: Switchboard's EVENTS_WEBHOOK_URL. Checks the signature and prints each presence event.

Run:  HANDLER_SECRET=s1 EVENTS_WEBHOOK_SECRET=s2 python3 examples/handler_app.py [port]
"""
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HANDLER_SECRET = os.environ.get("HANDLER_SECRET", "")
WEBHOOK_SECRET = os.environ.get("EVENTS_WEBHOOK_SECRET", "")
MAX_AGE_SECONDS = 300  # refuse replays of requests older than this


def signed(secret, headers, body):
    """True when X-Switchboard-Signature is v1=HMAC-SHA256(secret, timestamp + "." + body)."""
    timestamp = headers.get("X-Switchboard-Timestamp", "")
    signature = headers.get("X-Switchboard-Signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_AGE_SECONDS:
        return False
    expected = "v1=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body,
                                hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


class App(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: Switchboard reuses its connections

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/handle":
            if not signed(HANDLER_SECRET, self.headers, body):
                return self.answer(401, {"error": "bad signature"})
            request = json.loads(body)
            user = request["user"]["id"] if request["user"] else None
            return self.answer(200, {"echo": request["data"], "user": user})
        if self.path == "/events":
            if not signed(WEBHOOK_SECRET, self.headers, body):
                return self.answer(401, {"error": "bad signature"})
            event = json.loads(body)
            print("presence:", event["userId"], event["kind"], "seq", event["seq"], flush=True)
            return self.answer(204, None)
        return self.answer(404, {"error": "not found"})

    def answer(self, status, value):
        payload = b"" if value is None else json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    server = ThreadingHTTPServer(("127.0.0.1", port), App)
    print(f"example app on http://127.0.0.1:{port} (/handle, /events)", flush=True)
    server.serve_forever()
