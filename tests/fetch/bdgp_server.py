#!/usr/bin/env python3
"""A loopback HTTP server for the `fetch bdgp` tests: serves ROOT (a mirror in BDGP's layout) on
127.0.0.1 at an ephemeral port, with scripted faults, and logs every request.

  bdgp_server.py ROOT --port-file F --log F [--rules rules.json] [--delay S] [--lifetime S]

rules.json (every key optional; paths as requested, e.g. "/img_dir_67/insitu67044.jpe"):
  {"status": {"/p": 404},          always answer this status (no body)
   "fail_first": {"/p": [500, 2]}, answer 500 to the first 2 requests of /p, then serve it
   "truncate_first": {"/p": 1},    the first request of /p announces 1000 bytes more than it sends
   "slow": ["/p"]}                 send headers, then stall (longer than the client's timeout)

Log lines (tab-separated, flushed): path, status, "complete" | "incomplete" (the body was
written in full or not), User-Agent. The server binds only 127.0.0.1, stops by itself after --lifetime
seconds, and also when its parent process goes away (a crashed test leaves nothing behind).
"""
import argparse
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--rules", default="")
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--lifetime", type=float, default=120.0)
    args = ap.parse_args()
    rules = json.load(open(args.rules)) if args.rules else {}
    counts = {}
    lock = threading.Lock()
    log = open(args.log, "a", buffering=1)

    def record(path, status, complete, agent=""):
        with lock:
            log.write("%s\t%d\t%s\t%s\n" % (path, status, "complete" if complete else "incomplete",
                                              agent))
            log.flush()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):  # quiet: our own log only
            pass

        def send_bytes(self, status, body, announced):
            self.send_response(status)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(announced))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()

        def do_GET(self):
            path = self.path.split("?")[0]
            with lock:
                counts[path] = counts.get(path, 0) + 1
                n = counts[path]
            if args.delay > 0:
                time.sleep(args.delay)
            try:
                self.answer(path, n)
            except (BrokenPipeError, ConnectionResetError):
                record(path, 200, False, self.headers.get("User-Agent", ""))

        def answer(self, path, n):
            if path in rules.get("status", {}):
                status = int(rules["status"][path])
                self.send_bytes(status, b"", 0)
                record(path, status, True, self.headers.get("User-Agent", ""))
                return
            fail = rules.get("fail_first", {}).get(path)
            if fail and n <= fail[1]:
                self.send_bytes(int(fail[0]), b"", 0)
                record(path, int(fail[0]), True, self.headers.get("User-Agent", ""))
                return
            file = os.path.realpath(os.path.join(args.root, path.lstrip("/")))
            if not file.startswith(os.path.realpath(args.root) + os.sep) or not os.path.isfile(file):
                self.send_bytes(404, b"", 0)
                record(path, 404, True, self.headers.get("User-Agent", ""))
                return
            body = open(file, "rb").read()
            if path in rules.get("slow", []):
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                time.sleep(8)
                record(path, 200, False, self.headers.get("User-Agent", ""))
                self.close_connection = True
                return
            if n <= int(rules.get("truncate_first", {}).get(path, 0)):
                self.send_bytes(200, body, len(body) + 1000)
                record(path, 200, False, self.headers.get("User-Agent", ""))
                self.close_connection = True
                return
            self.send_bytes(200, body, len(body))
            record(path, 200, True, self.headers.get("User-Agent", ""))

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    parent = os.getppid()

    def watchdog():
        start = time.time()
        while time.time() - start < args.lifetime and os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watchdog, daemon=True).start()
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
