"""TLS and binding: a self-signed certificate made here, the server on https + wss, a real node process
joining over wss with --cafile (and failing without it); `mixscope serve` warns when it binds beyond
loopback without TLS and refuses unusable certificate files with one line."""

from __future__ import annotations

import datetime
import ipaddress
import os
import signal
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import ROOT, NodeProcess
from mixscope.mixnet.credentials import new_code
from mixscope.server.runner import ServerRunner
from mixscope.wire import tls


def make_self_signed(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mixscope-test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # a secret: 0600 from the start
    with os.fdopen(fd, "wb") as out:
        out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def certs(tmp_path):
    return make_self_signed(tmp_path)


@pytest.fixture
def tls_server(tmp_path, certs):
    runner = ServerRunner(port=0, ping_interval=0.5, data_dir=str(tmp_path / "data"),
                          tls=tls.server_context(str(certs[0]), str(certs[1])))
    runner.start()
    try:
        yield runner
    finally:
        runner.stop()


@pytest.mark.slow
def test_https_and_wss_with_a_node_trusting_the_self_signed_cert(tls_server, certs, tmp_path):
    assert tls_server.url.startswith("https://") and tls_server.ws_url.startswith("wss://")
    trusted = ssl.create_default_context(cafile=str(certs[0]))
    with urllib.request.urlopen(tls_server.url + "/", context=trusted, timeout=10) as response:
        assert response.status == 200
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        urllib.request.urlopen(tls_server.url + "/", timeout=10)  # the system CAs do not know this cert
    base = [sys.executable, "-u", "-m", "mixscope", "node", "--url", tls_server.ws_url, "--role", "mixer",
            "--data-dir", str(tmp_path / "nodes"), "--join-token", tls_server.join_token]
    good = NodeProcess([*base, "--name", "m-wss", "--cafile", str(certs[0])])
    stranger = NodeProcess([*base, "--name", "m-no-ca"])
    try:
        good.wait_for("welcomed", timeout=20)
        assert tls_server.board.nodes("mixer")[0].name == "m-wss"  # joined with token and signature over wss
        failed = stranger.wait_for("error", timeout=20)
        assert "CERTIFICATE_VERIFY_FAILED" in failed["detail"] or "certificate" in failed["detail"].lower()
        assert [n.name for n in tls_server.board.nodes("mixer")] == ["m-wss"]
    finally:
        for node in (good, stranger):
            node.terminate()


@pytest.mark.slow
def test_unusable_tls_files_are_one_line_errors(tmp_path, certs):
    other_cert, _ = make_self_signed(tmp_path / "other")
    with pytest.raises(tls.TlsError, match="does not exist"):
        tls.server_context(str(tmp_path / "missing.pem"), str(certs[1]))
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(tls.TlsError, match="cannot use"):
        tls.server_context(str(garbage), str(certs[1]))
    _, wrong_key = make_self_signed(tmp_path / "wrong")
    with pytest.raises(tls.TlsError, match="cannot use"):
        tls.server_context(str(certs[0]), str(wrong_key))  # a key that does not match the certificate
    with pytest.raises(tls.TlsError, match="CA file"):
        tls.client_sslopt(str(garbage))
    assert tls.client_sslopt(str(other_cert))["ca_certs"] == str(other_cert)
    out = subprocess.run([sys.executable, "-m", "mixscope", "serve", "--port", "0", "--certfile", str(garbage),
                          "--keyfile", str(certs[1]), "--data-dir", str(tmp_path / "d")],
                         cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    out = subprocess.run([sys.executable, "-m", "mixscope", "node", "--url", "wss://127.0.0.1:1/ws", "--name", "n",
                          "--cafile", str(tmp_path / "nope.pem")], cwd=ROOT, capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 2 and "CA file" in out.stderr and "Traceback" not in out.stderr


def _serve(tmp_path, *extra: str) -> tuple[subprocess.Popen, str, str]:
    """Start `mixscope serve`, read its URL line and everything it wrote to stderr before that."""
    proc = subprocess.Popen([sys.executable, "-u", "-m", "mixscope", "serve", "--port", "0", "--data-dir",
                             str(tmp_path / "d"), *extra], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    return proc, url, err


@pytest.mark.slow
def test_serve_is_loopback_by_default_and_warns_beyond_it_unless_tls(tmp_path, certs):
    _, url, err = _serve(tmp_path)
    assert url.startswith("Mixscope server listening on http://127.0.0.1:") and "warning" not in err
    _, url, err = _serve(tmp_path, "--host", "0.0.0.0")
    assert "warning: binding 0.0.0.0 without TLS" in err
    _, url, err = _serve(tmp_path, "--host", "0.0.0.0", "--certfile", str(certs[0]), "--keyfile", str(certs[1]))
    assert url.startswith("Mixscope server listening on https://") and "warning" not in err


@pytest.mark.slow
def test_vote_trusts_a_self_signed_server_only_with_cafile(tls_server, certs, tmp_path):
    code = tmp_path / "code.txt"
    code.write_text(new_code())
    base = [sys.executable, "-m", "mixscope", "vote", "--server", tls_server.url, "--election", "no-such",
            "--credential", str(code), "--choice", "0"]
    trusted = subprocess.run([*base, "--cafile", str(certs[0])], capture_output=True, text=True, timeout=60)
    assert trusted.returncode == 1 and "refused" in trusted.stderr and "CERTIFICATE" not in trusted.stderr
    stranger = subprocess.run(base, capture_output=True, text=True, timeout=60)
    assert stranger.returncode == 1 and "CERTIFICATE_VERIFY_FAILED" in stranger.stderr
    missing = subprocess.run(
        [*base, "--cafile", str(tmp_path / "none.pem")], capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 2 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr
