"""`tls_context()` builds the verifying context on the first TLS handshake only: plain
http never loads the CA store, and HTTPS is verified exactly as httpx2's default context
verifies it (a server the CA store does not vouch for is refused)."""

import datetime
import ipaddress
import os
import socket
import ssl
import subprocess
import sys
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CLIENT = """
import sys, httpx2
from linkpay.mpp import exchange
http_url, https_url = sys.argv[1:3]
with httpx2.Client(verify=exchange.tls_context(), follow_redirects=False) as client:
    plain = client.get(http_url)
    built_before_tls = exchange._verifying_context.cache_info().currsize
    try:
        answer = client.get(https_url).text
    except httpx2.ConnectError as exc:
        answer = "refused: " + str(exc)
print(plain.status_code, built_before_tls, answer)
"""


def _self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "linkpay test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def _serve(listener, tls, seen):
    """Answer each connection once with `ok` (TLS when `tls` is a context)."""
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        try:
            if tls is not None:
                conn = tls.wrap_socket(conn, server_side=True)
                seen.append(conn.selected_alpn_protocol())
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()


def _listener():
    listener = socket.create_server(("127.0.0.1", 0))
    return listener, listener.getsockname()[1]


def _run_client(tmp_path, cafile):
    cert_file, key_file = _self_signed(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert_file, key_file)
    tls.set_alpn_protocols(["http/1.1"])
    seen: list[str | None] = []
    plain, plain_port = _listener()
    secure, secure_port = _listener()
    for listener, context in ((plain, None), (secure, tls)):
        threading.Thread(target=_serve, args=(listener, context, seen), daemon=True).start()
    env = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
    if cafile:
        env["SSL_CERT_FILE"] = str(cert_file)
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                CLIENT,
                f"http://127.0.0.1:{plain_port}/",
                f"https://127.0.0.1:{secure_port}/",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        plain.close()
        secure.close()
    assert done.returncode == 0, done.stderr
    return done.stdout.strip(), seen


def test_https_to_a_server_the_ca_store_vouches_for_is_verified_and_offers_alpn(tmp_path):
    out, seen = _run_client(tmp_path, cafile=True)
    assert out == "200 0 ok"  # plain http built no verifying context
    assert seen == ["http/1.1"]  # httpcore2's ALPN list reached the real handshake


def test_https_to_an_unknown_server_is_refused(tmp_path):
    out, _ = _run_client(tmp_path, cafile=False)
    assert out.startswith("200 0 refused: ")
    assert "CERTIFICATE_VERIFY_FAILED" in out
