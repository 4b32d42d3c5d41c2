#!/usr/bin/env python3
"""Accept one TCP connection on 127.0.0.1:LISTEN, relay it to 127.0.0.1:TARGET, and save each direction's bytes.

usage: relay.py LISTEN TARGET OUT_PREFIX   (writes OUT_PREFIX.c2s and OUT_PREFIX.s2c)
"""
import socket, sys, threading

listen, target, prefix = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", listen))
srv.listen(1)
srv.settimeout(20)
client, _ = srv.accept()
upstream = socket.create_connection(("127.0.0.1", target), timeout=20)

def pump(src, dst, path):
    with open(path, "wb") as f:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            f.write(data)
            dst.sendall(data)

a = threading.Thread(target=pump, args=(client, upstream, prefix + ".c2s"))
b = threading.Thread(target=pump, args=(upstream, client, prefix + ".s2c"))
a.start(); b.start(); a.join(); b.join()
