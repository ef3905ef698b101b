"""Pipelined HTTP/1.1 requests on one connection (issue 13, F1). Usage: http_pipeline.py HOST PORT
(a server started with --demo). Requests without a body that need no database (health, probes,
404s) are all answered, in order, on the one connection; a request pipelined behind one that
waits on the database closes the connection; the answer to a request with a body says
"connection: close" and nothing after it is read. The server answers normally afterwards (the
shell script then checks its clean exit and the sanitizer log). Prints "N passed, N failed";
exit status 1 on any failure."""
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from durability import Checks, demo_token  # noqa: E402

TIMEOUT_S = 10.0


def pipeline(host, port, requests):
    """Sends every request at once on one connection; returns the parsed responses in order
    (status, headers, body) and whether the server closed the connection."""
    s = socket.create_connection((host, port), timeout=TIMEOUT_S)
    s.sendall(b"".join(requests))
    buf, closed = b"", False
    responses = []
    try:
        while len(responses) < len(requests):
            while b"\r\n\r\n" not in buf:
                chunk = s.recv(65536)
                if not chunk:
                    raise EOFError
                buf += chunk
            head, rest = buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, v in
                       (ln.split(":", 1) for ln in lines[1:] if ":" in ln)}
            n = int(headers.get("content-length", "0"))
            while len(rest) < n:
                chunk = s.recv(65536)
                if not chunk:
                    raise EOFError
                rest += chunk
            responses.append((int(lines[0].split()[1]), headers, rest[:n]))
            buf = rest[n:]
    except EOFError:
        closed = True
    except socket.timeout:
        pass
    s.close()
    return responses, closed


def get(path, token=None):
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return f"GET {path} HTTP/1.1\r\nHost: t\r\n{auth}\r\n".encode()


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    check = Checks()

    r, _ = pipeline(host, port, [get("/api/health")] * 200)
    check("200 pipelined /api/health are all answered", len(r) == 200 and
          all(st == 200 for st, _, _ in r), f"{len(r)} answered")
    mixed = [get("/healthz"), get("/api/nope"), get("/readyz"), get("/api/health")] * 25
    r, _ = pipeline(host, port, mixed)
    want = [200, 404, 200, 200] * 25
    check("100 mixed pipelined requests are answered in order",
          [st for st, _, _ in r] == want, [st for st, _, _ in r][:12])
    token = demo_token(host, port, "alice")
    reqs = [get("/api/admin/tenants/acme/users", token)] * 20
    r, closed = pipeline(host, port, reqs)
    check("requests pipelined behind one that waits on the database: the connection closes",
          closed and all(st == 200 for st, _, _ in r), f"{len(r)} answered, closed={closed}")
    r, _ = pipeline(host, port, [get("/api/admin/tenants/acme/users", token)])
    check("the same request alone is answered", len(r) == 1 and r[0][0] == 200, r)
    # A body too large and a normal POST, pipelined, each with a body.
    big = b"x" * (70 * 1024)
    post = (b"POST /api/demo/token HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(big)) + big
    body = b'{"user": "bob"}'
    post2 = (b"POST /api/demo/token HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             b"Content-Length: %d\r\n\r\n" % len(body)) + body
    r, closed = pipeline(host, port, [post, post2, get("/healthz")])
    check("a body too large is answered 413 with connection: close, then the connection closes",
          [st for st, _, _ in r] == [413] and r[0][1].get("connection") == "close" and closed,
          [(st, h.get("connection")) for st, h, _ in r])
    r, closed = pipeline(host, port, [post2, post2])
    check("a request with a body: answered (200), connection: close, nothing after it read",
          [st for st, _, _ in r] == [200] and r[0][1].get("connection") == "close" and closed,
          [(st, h.get("connection")) for st, h, _ in r])
    r, closed = pipeline(host, port, [get("/healthz"), post2, get("/healthz")])
    check("a body request pipelined behind a GET: both answered, then the connection closes",
          [st for st, _, _ in r][:1] == [200] and len(r) == 2 and closed,
          [(st, h.get("connection")) for st, h, _ in r])
    # Many connections that each pipeline and go away without reading.
    for _ in range(50):
        s = socket.create_connection((host, port), timeout=TIMEOUT_S)
        s.sendall(get("/api/health") * 5 + get("/api/admin/tenants/acme/users", token) * 3)
        s.close()
    r, _ = pipeline(host, port, [get("/healthz")])
    check("the server still answers after 50 connections left mid-pipeline",
          len(r) == 1 and r[0][0] == 200, r)
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
