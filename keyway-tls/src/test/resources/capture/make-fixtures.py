#!/usr/bin/env python3
"""Makes the real capture fixtures beside this file (run as root; see README.txt).

For each output format, starts dumpcap on lo with a port filter and a bounded duration, then runs two TCP
connections to port 47321 (one over 127.0.0.1, one over ::1) that exchange the payloads below, and waits
for dumpcap to stop by itself. The payloads are written beside the captures so the tests compare bytes,
not a formula.
"""
import os, socket, subprocess, sys, threading, time

PORT = 47321
HERE = os.path.dirname(os.path.abspath(__file__))

def client_messages(tag):
    return [b"hello from the client over " + tag + b"\n",
            bytes(i % 251 for i in range(600)),
            b"bye\n"]

def server_messages(tag):
    return [b"hello from the server over " + tag + b"\n",
            bytes((i * 7 + 3) % 256 for i in range(900)),
            b"done\n"]

def read_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise EOFError("peer closed early")
        buf += chunk
    return buf

def exchange(family, host, tag):
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, PORT))
    srv.listen(1)

    def serve():
        conn, _ = srv.accept()
        with conn:
            for c, s in zip(client_messages(tag), server_messages(tag)):
                read_exact(conn, len(c))
                conn.sendall(s)
            conn.shutdown(socket.SHUT_WR)
            conn.recv(1)  # wait for the client's FIN

    t = threading.Thread(target=serve)
    t.start()
    cli = socket.create_connection((host, PORT))
    cli.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for c, s in zip(client_messages(tag), server_messages(tag)):
        cli.sendall(c)
        read_exact(cli, len(s))
        time.sleep(0.05)
    cli.shutdown(socket.SHUT_WR)
    cli.recv(1)
    cli.close()
    t.join()
    srv.close()

def capture(path, extra):
    if os.path.exists(path):
        os.remove(path)
    dc = subprocess.Popen(["dumpcap", "-q", "-i", "lo", "-f", "tcp port %d" % PORT,
                           "-a", "duration:4", "-w", path] + extra)
    time.sleep(1.5)  # dumpcap needs a moment before it captures
    exchange(socket.AF_INET, "127.0.0.1", b"ipv4")
    time.sleep(0.2)
    exchange(socket.AF_INET6, "::1", b"ipv6")
    if dc.wait(timeout=30) != 0:
        sys.exit("dumpcap failed")

for tag in (b"ipv4", b"ipv6"):
    name = tag.decode()
    with open(os.path.join(HERE, "lo-%s-client-to-server.bin" % name), "wb") as f:
        f.write(b"".join(client_messages(tag)))
    with open(os.path.join(HERE, "lo-%s-server-to-client.bin" % name), "wb") as f:
        f.write(b"".join(server_messages(tag)))
capture(os.path.join(HERE, "lo.pcapng"), [])
# this dumpcap (4.0) has no -F; -P writes classic pcap
capture(os.path.join(HERE, "lo.pcap"), ["-P"])
