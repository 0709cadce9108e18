"""TLS for the server (https + wss) and its clients: certificate files in, an `ssl.SSLContext` out.

Loading happens before anything listens, so a missing or mismatched file is a one-line TlsError at start,
never a traceback from the loop thread. Nodes trust a private CA (or a self-signed server certificate)
through `--cafile`.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any


class TlsError(ValueError):
    """A certificate, key or CA file that cannot be used; str(error) says which and why."""


def server_context(certfile: str, keyfile: str | None) -> ssl.SSLContext:
    """A server context (TLS 1.2+) holding the certificate chain and its private key."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    for label, path in (("certificate", certfile), ("key", keyfile)):
        if path is not None and not Path(path).is_file():
            raise TlsError(f"TLS {label} file {path} does not exist or is not a file")
    try:
        context.load_cert_chain(certfile, keyfile)
    except ssl.SSLError as exc:
        raise TlsError(f"cannot use {certfile} with {keyfile or 'its own key'}: {exc.reason or exc}") from None
    except OSError as exc:
        raise TlsError(f"cannot read the TLS files: {exc.strerror or exc}") from None
    return context


def client_context(cafile: str | None) -> ssl.SSLContext:
    """A verifying client context trusting `cafile` (None: the system's CAs)."""
    if cafile is None:
        return ssl.create_default_context()
    if not Path(cafile).is_file():
        raise TlsError(f"CA file {cafile} does not exist or is not a file")
    try:
        return ssl.create_default_context(cafile=cafile)
    except (ssl.SSLError, OSError) as exc:
        raise TlsError(f"cannot use CA file {cafile}: {exc}") from None


def client_sslopt(cafile: str | None) -> dict[str, Any]:
    """websocket-client `sslopt` for a wss:// URL: verify against `cafile` (None: the system's CAs)."""
    if cafile is None:
        return {}
    client_context(cafile)  # a one-line TlsError now rather than a handshake failure later
    return {"ca_certs": cafile, "cert_reqs": ssl.CERT_REQUIRED}
