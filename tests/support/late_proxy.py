#!/usr/bin/env python3
"""A forwarding proxy that makes an AWS stand-in answer late, after the call took effect.

    python3 tests/support/late_proxy.py --port PORT --upstream http://127.0.0.1:MOTO_PORT

Every request is forwarded at once to the upstream (moto), so the call takes effect there;
the answer of a chosen operation (by its ``X-Amz-Target``, e.g.
``AWSCognitoIdentityProviderService.AdminSetUserPassword``) is then held back for a while, the
way a slow back-end answers after it acted. This is what makes the SDK's standard retry send a
reset twice; the tests use it to show resetgate does not. 127.0.0.1 only; standard library
only; SIGTERM stops it.

Control API (JSON):

* ``POST /_proxy/late``: ``{"operation": TARGET, "delayMs": N, "count": K}`` holds the next K
  answers of TARGET for N ms (K omitted: every one).
* ``POST /_proxy/reset``: forgets delays and counts.
* ``GET  /_proxy/calls``: ``{TARGET: number of requests forwarded}``.
"""

import argparse
import http.client
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

LOCK = threading.Lock()
LATE = {}  # target -> [delay_ms, remaining or None]
CALLS = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream = None  # (host, port)

    def log_message(self, *args):  # quiet
        pass

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _reply(self, status, headers, body):
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _control(self, body):
        global LATE, CALLS
        if self.path == "/_proxy/late":
            spec = json.loads(body or b"{}")
            with LOCK:
                LATE[spec["operation"]] = [int(spec["delayMs"]), spec.get("count")]
        elif self.path == "/_proxy/reset":
            with LOCK:
                LATE, CALLS = {}, {}
        elif self.path != "/_proxy/calls":
            return self._reply(404, [], b"{}")
        with LOCK:
            answer = json.dumps(CALLS).encode()
        self._reply(200, [("Content-Type", "application/json")], answer)

    def _forward(self):
        body = self._body()
        if self.path.startswith("/_proxy/"):
            return self._control(body)
        target = self.headers.get("X-Amz-Target", "")
        with LOCK:
            CALLS[target] = CALLS.get(target, 0) + 1
            delay = 0
            late = LATE.get(target)
            if late and (late[1] is None or late[1] > 0):
                delay = late[0]
                if late[1] is not None:
                    late[1] -= 1
        connection = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
            connection.request(self.command, self.path, body=body, headers=headers)
            answer = connection.getresponse()
            status, answer_headers, answer_body = answer.status, answer.getheaders(), answer.read()
        finally:
            connection.close()
        if delay:
            time.sleep(delay / 1000)
        try:
            self._reply(status, answer_headers, answer_body)
        except OSError:  # the client gave up waiting
            pass

    do_GET = do_POST = do_PUT = do_DELETE = _forward


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    upstream = urlsplit(args.upstream)
    Handler.upstream = (upstream.hostname, upstream.port)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"late_proxy listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
