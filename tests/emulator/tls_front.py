"""A TLS front for the emulator, for aws-rekey's network tests.

It terminates TLS with a certificate the test made with its own private CA
(as a company's TLS-inspecting proxy presents every site), and relays the
decrypted bytes to the emulator's plain-HTTP port. A client that does not
trust the CA fails its handshake here and never reaches the emulator.

Usage: python3 tls_front.py CERT_PEM KEY_PEM UPSTREAM_PORT
Prints {"port": N} on stdout once listening on 127.0.0.1, and exits when
stdin closes, so a test's front dies with the test.
"""

import json
import os
import socket
import ssl
import sys
import threading


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(conn, context, upstream):
    try:
        conn.settimeout(30)
        tls = context.wrap_socket(conn, server_side=True)
        tls.settimeout(None)
    except (ssl.SSLError, OSError):
        # A client that does not trust the certificate: nothing is relayed.
        conn.close()
        return
    try:
        up = socket.create_connection(("127.0.0.1", upstream))
    except OSError:
        tls.close()
        return
    threading.Thread(target=pump, args=(up, tls), daemon=True).start()
    pump(tls, up)


def main():
    cert, key, upstream = sys.argv[1], sys.argv[2], int(sys.argv[3])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)

    def accept():
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=serve, args=(conn, context, upstream), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    print(json.dumps({"port": listener.getsockname()[1]}), flush=True)
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    main()
