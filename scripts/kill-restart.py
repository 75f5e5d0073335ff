#!/usr/bin/env python3
"""Kill a sandbox with SIGKILL in the middle of a burst of webhooks, restart
it on the same SQLite file, and check that a receiver gets every event id.

It uses only the binary and its HTTP APIs (no Go), so it checks what a user
would see. Standard library only.

    make build
    python3 scripts/kill-restart.py --binary bin/innosandbox [--events 10000] [--kill-after 2500]

It starts everything on 127.0.0.1, prints how many pushes arrived before the
kill, after the restart, and how many were pushed twice, then stops the
restarted sandbox with SIGTERM, which must exit 0. The exit status is 0 when
every event arrived and the sandbox shut down cleanly, 1 otherwise.
"""

import argparse
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

DEMO_APP = "XFbZY1rtTKo3UD4n1"
DEMO_TOKEN = "YUIYIUIAIIASUDIAOSIDUOIWUOQWUEOIUWOEUQWOEUOQWUOUWOUWQOWU"


class Receiver(http.server.BaseHTTPRequestHandler):
    """Counts the pushes of each event id; answers 204."""

    counts = {}
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            event_id = json.loads(body).get("id", "")
        except ValueError:
            event_id = ""
        with Receiver.lock:
            Receiver.counts[event_id] = Receiver.counts.get(event_id, 0) + 1
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def distinct():
    with Receiver.lock:
        return len(Receiver.counts)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, body=None, headers=None):
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json;charset=utf-8")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def start(binary, addr, db, log):
    proc = subprocess.Popen([binary, "serve", "--addr", addr, "--store", "sqlite:" + db, "--quiet", "--log-level", "warn"],
                            stdout=log, stderr=log)
    base = "http://" + addr
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit("the sandbox exited at start (status %d); see %s" % (proc.returncode, log.name))
        try:
            if call(base, "GET", "/readyz")[0] == 200:
                return proc, base
        except OSError:
            pass
        time.sleep(0.02)
    proc.kill()
    sys.exit("the sandbox did not become ready; see " + log.name)


def wait_until(pred, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.005)
    return pred()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", default="bin/innosandbox", help="the innosandbox binary (make build)")
    ap.add_argument("--events", type=int, default=10000, help="webhooks in the burst, a multiple of 2000")
    ap.add_argument("--kill-after", type=int, default=2500, help="kill once this many distinct events arrived")
    args = ap.parse_args()
    if not os.access(args.binary, os.X_OK):
        sys.exit("%s is not an executable: run make build, or name the binary with --binary" % args.binary)
    if args.events % 2000 or not 0 < args.kill_after < args.events:
        sys.exit("--events must be a multiple of 2000 and --kill-after between 1 and --events - 1")

    recv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=recv.serve_forever, daemon=True).start()
    hook = "http://127.0.0.1:%d/hook" % recv.server_address[1]

    tmp = tempfile.mkdtemp(prefix="kill-restart-")
    db = os.path.join(tmp, "sandbox.db")
    addr = "127.0.0.1:%d" % free_port()
    log = open(os.path.join(tmp, "sandbox.log"), "ab")
    proc, base = start(args.binary, addr, db, log)

    status, body = call(base, "POST", "/_sandbox/apps/%s/webhooks" % DEMO_APP,
                        {"product": "whatsapp", "url": hook, "events": ["whatsapp_message_status_updated"]})
    if status != 201:
        sys.exit("configuring the webhook: HTTP %d %s" % (status, body))
    # Template sends of 1000 numbers: a delivered and a read report each.
    for first in range(0, args.events // 2, 1000):
        numbers = ",".join("62852%08d" % i for i in range(first, first + 1000))
        send = {"wabaId": "110129512080569", "messageType": "template", "sendNumber": "8618912123456",
                "recipientNumber": numbers, "templateName": "otp_login", "language": "en_US", "bodyParams": ["245098"]}
        status, body = call(base, "POST", "/api/whatsapp/v3/msg/submit", send,
                            {"AppKey": DEMO_APP, "Authorization": DEMO_TOKEN})
        if status != 200 or json.loads(body).get("code") != "0":
            sys.exit("a send was refused: HTTP %d %s" % (status, body))

    if not wait_until(lambda: distinct() >= args.kill_after, 120):
        sys.exit("only %d events arrived before the kill; see %s" % (distinct(), log.name))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = distinct()
    print("killed with SIGKILL after %d of %d events arrived" % (before, args.events))

    proc, base = start(args.binary, addr, db, log)
    ok = wait_until(lambda: distinct() >= args.events, 120)
    with Receiver.lock:
        got = len(Receiver.counts)
        dups = sum(n - 1 for n in Receiver.counts.values())
    print("after the restart: %d of %d events arrived, %d duplicate pushes" % (got, args.events, dups))

    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = -1
    print("SIGTERM: exit status %d" % code)
    recv.shutdown()
    if not ok or got != args.events or code != 0:
        print("FAILED; the sandbox's log: " + log.name)
        return 1
    print("ok: nothing lost")
    return 0


if __name__ == "__main__":
    sys.exit(main())
