#!/usr/bin/env python3
"""A webhook receiver for avmon's tests (loopback only).

Logs every POST as one JSON line: arrival time, webhook-id/timestamp, whether
the Standard Webhooks signature verified, the status it answered and the body.
Answers follow --script (comma-separated STATUS[:RETRY_AFTER_S], one per
request), then --default. Stops by itself after --lifetime seconds.
"""
import argparse, base64, hashlib, hmac, json, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--log", required=True)
ap.add_argument("--secret", default="")
ap.add_argument("--script", default="")
ap.add_argument("--default", type=int, default=200)
ap.add_argument("--lifetime", type=float, default=600)
ap.add_argument("--tls-cert", default="")
ap.add_argument("--tls-key", default="")
args = ap.parse_args()

script = [s for s in args.script.split(",") if s]
lock = threading.Lock()
key = base64.b64decode(args.secret[len("whsec_"):]) if args.secret.startswith("whsec_") else args.secret.encode()


def verify(msg_id, ts, body, header):
    if not args.secret or header is None:
        return None
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    expected = "v1," + base64.b64encode(mac).decode()
    return any(hmac.compare_digest(expected, s) for s in header.split(" "))


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        with lock:
            step = script.pop(0) if script else str(args.default)
            status, _, retry_after = step.partition(":")
            status = int(status)
            h = self.headers
            entry = {"t": time.time(), "path": self.path, "id": h.get("webhook-id"), "ts": h.get("webhook-timestamp"),
                     "sig_ok": verify(h.get("webhook-id"), h.get("webhook-timestamp"), body, h.get("webhook-signature")),
                     "status": status}
            try:
                body.decode("utf-8")
                entry["utf8"] = True
            except UnicodeDecodeError:
                entry["utf8"] = False
            try:
                entry["body"] = json.loads(body)
            except ValueError:
                entry["body"] = body.decode("utf-8", "replace")
            with open(args.log, "a") as f:
                f.write(json.dumps(entry) + "\n")
        self.send_response(status)
        if retry_after:
            self.send_header("Retry-After", retry_after)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
if args.tls_cert:
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.tls_cert, args.tls_key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
threading.Timer(args.lifetime, server.shutdown).start()
print("ready", flush=True)
server.serve_forever()
