#!/usr/bin/env python3
"""A TLS front for an AWS stand-in: a certificate authority of its own, made at start.

    python3 tests/support/tls_proxy.py --port PORT --upstream http://127.0.0.1:MOTO_PORT --ca-out FILE

Makes a throwaway CA and a certificate for `localhost` and 127.0.0.1 signed by it (with the
`cryptography` package moto brings), writes the CA's certificate (PEM) to FILE, then serves
HTTPS on 127.0.0.1:PORT and forwards every request to the upstream over plain HTTP. The tests
use it to see the function's AWS clients verify certificates: against the CA they trust, and
refused by a store without it. 127.0.0.1 only; SIGTERM stops it.
"""

import argparse
import datetime
import http.client
import ipaddress
import signal
import ssl
import sys
import tempfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def certificates():
    """A CA, and a server certificate for localhost and 127.0.0.1 signed by it (PEM)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "resetgate test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = lambda cert: cert.public_bytes(serialization.Encoding.PEM)  # noqa: E731
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem(ca), pem(leaf), key_pem


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream = None  # (host, port)

    def log_message(self, *args):  # quiet
        pass

    def _forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        connection = http.client.HTTPConnection(*self.upstream, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
        connection.request(self.command, self.path, body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        connection.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--ca-out", required=True)
    args = parser.parse_args()
    upstream = urlsplit(args.upstream)
    Handler.upstream = (upstream.hostname, upstream.port)
    ca, leaf, key = certificates()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.NamedTemporaryFile() as chain, tempfile.NamedTemporaryFile() as private:
        chain.write(leaf + ca)
        chain.flush()
        private.write(key)
        private.flush()
        context.load_cert_chain(chain.name, private.name)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # The CA last: the test waits for this file, so the server is ready once it exists.
    with open(args.ca_out + ".tmp", "wb") as out:
        out.write(ca)
    import os

    os.replace(args.ca_out + ".tmp", args.ca_out)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
