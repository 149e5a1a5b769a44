#!/usr/bin/env python3
"""A Switchboard webhook receiver: verifies each request's signature, prints the event.

Standard library only. Run it, point a group's webhook at it, and ring a phone:

    WEBHOOK_SECRET='the secret of the webhook' python3 webhook_receiver.py --port 8080

    # the PBX's configuration
    [[group.webhook]]
    url = "http://127.0.0.1:8080/hooks/pbx"
    secret = "the secret of the webhook"

The first line on stdout is `listening on http://127.0.0.1:PORT/` (`--port 0`
picks a free port); then one JSON line per verified event. A request whose
signature does not verify is answered 401 and not printed. Answer 2xx only once
the event is safely handled: anything else makes the server send it again, with
the same `id` (deduplicate on it: delivery is at least once).
"""
import argparse
import collections
import hashlib
import hmac
import http.server
import json
import os
import sys
import time

TOLERANCE_SECONDS = 300  # refuse signatures older (or newer) than 5 minutes
MAX_BODY_BYTES = 1 << 20


def verify(secret: bytes, header: str, body: bytes, now: float) -> bool:
    """The documented rule: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`."""
    # 1. Split the header into its `t` and its `v1` values.
    t, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            t = value
        elif key == "v1":
            signatures.append(value)
    if t is None or not (t.isascii() and t.isdigit()) or not signatures:
        return False
    # 2. Refuse a stale timestamp: a recorded request cannot be replayed later.
    if abs(now - int(t)) > TOLERANCE_SECONDS:
        return False
    # 3. HMAC-SHA256 over "<t>." followed by the raw body bytes, exactly as received.
    expected = hmac.new(secret, t.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    # 4. Compare in constant time, as bytes (a non-ASCII value is simply wrong),
    #    looking at a few values only (several exist while a secret rotates).
    return any(
        hmac.compare_digest(expected.encode("ascii"), s.encode("utf-8", "replace"))
        for s in signatures[:8]
    )


def handler(secret: bytes):
    seen = collections.OrderedDict()  # event ids already handled: a retry may repeat one
    max_seen = 10_000  # bounded: the oldest ids are forgotten first

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY_BYTES:
                self.send_error(413)
                return
            body = self.rfile.read(length)
            header = self.headers.get("Switchboard-Signature", "")
            if not verify(secret, header, body, time.time()):
                self.send_error(401, "bad signature")
                return
            event = json.loads(body)  # only now: the body is the server's
            if event["id"] not in seen:
                seen[event["id"]] = True
                if len(seen) > max_seen:
                    seen.popitem(last=False)
                print(json.dumps(event), flush=True)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format, *args):
            print(format % args, file=sys.stderr)

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--secret-file", help="the secret, else $WEBHOOK_SECRET")
    args = parser.parse_args()
    if args.secret_file:
        with open(args.secret_file, "rb") as f:
            secret = f.read().rstrip(b"\r\n")
    else:
        secret = os.environ["WEBHOOK_SECRET"].encode()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler(secret))
    print(f"listening on http://127.0.0.1:{server.server_port}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
