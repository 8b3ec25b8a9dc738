#!/usr/bin/env python3
"""A local RFC 3161 Time Stamping Authority for the tests: `openssl ts -reply` behind an HTTP handler.

Usage: tsa_server.py DIR — DIR holds tsa.crt, tsa.key and ts.cnf (made by the test). Prints the port it
listens on (loopback), then answers POST application/timestamp-query with application/timestamp-reply.
POST /broken answers garbage, POST /down answers 503: the failures Probity must report.
"""
import http.server, os, subprocess, sys, tempfile

DIR = sys.argv[1]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        query = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/down":
            return self.answer(503, b"unavailable", "text/plain")
        if self.path == "/broken":
            return self.answer(200, b"not a time-stamp reply", "application/timestamp-reply")
        with tempfile.TemporaryDirectory() as tmp:
            request, reply = os.path.join(tmp, "q.tsq"), os.path.join(tmp, "r.tsr")
            with open(request, "wb") as f:
                f.write(query)
            run = subprocess.run(["openssl", "ts", "-reply", "-config", os.path.join(DIR, "ts.cnf"), "-queryfile", request,
                                  "-signer", os.path.join(DIR, "tsa.crt"), "-inkey", os.path.join(DIR, "tsa.key"), "-out", reply],
                                 capture_output=True, cwd=DIR)
            if run.returncode != 0:
                return self.answer(500, run.stderr, "text/plain")
            with open(reply, "rb") as f:
                self.answer(200, f.read(), "application/timestamp-reply")

    def answer(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
