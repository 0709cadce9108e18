"""Which names the server answers to: a Host/Origin allow-list against DNS rebinding, and the security headers
every page carries.

A page on a foreign name that resolves to this server (evil.example -> 127.0.0.1) is same-origin with that
name in the browser, so only the Host header tells it apart: a request whose Host, or whose Origin when a
browser sends one, names anything but the bound address, a loopback name (when bound to loopback) or a name
given with `--allowed-host` is refused with 403 before it reaches a view or the websocket.
"""

from __future__ import annotations

import ipaddress
from typing import Iterable
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"", "0.0.0.0", "::"})

SECURITY_HEADERS = {
    # everything from this server only (one stylesheet, no inline script or style); no framing, no plugins
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _name(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostPolicy:
    """The names one server answers to. Bound to a wildcard address, any IP address literal is also accepted
    (a browser that typed an address is same-origin with that address only, so rebinding cannot use it)."""

    def __init__(self, bound: str, allowed: Iterable[str] = ()):
        self.names = {_name(bound)} | {_name(n) for n in allowed if n.strip()}
        self.any_address = bound in WILDCARDS
        if self.any_address or is_loopback(bound):
            self.names |= LOOPBACK_NAMES
        self.names.discard("")

    def allows(self, name: str | None) -> bool:
        if not name:
            return False
        name = _name(name)
        return name in self.names or self.any_address and _is_address(name)

    def refusal(self, host: str, origin: str | None) -> str | None:
        """Why a request with this Host header (and Origin, if any) is refused, or None to serve it."""
        try:
            host_name = urlsplit("//" + host).hostname
        except ValueError:
            host_name = None
        if not self.allows(host_name):
            return f"host {host[:100]!r} is not one this server answers to (see --allowed-host)"
        if origin is not None:
            try:
                origin_name = urlsplit(origin).hostname
            except ValueError:
                origin_name = None
            if not self.allows(origin_name):
                return f"origin {origin[:100]!r} is not allowed (see --allowed-host)"
        return None
