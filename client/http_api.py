"""What every HTTP client of a Mixscope server shares: the server address parsed once, a connection to it
(https with the given CA), and the one error type with the server's JSON reason."""

from __future__ import annotations

import functools
import http.client
import json
import urllib.parse
from typing import Callable

from mixscope.wire import tls


class ApiError(Exception):
    """The server refused a request (status >= 400) or could not be reached (status 0)."""

    def __init__(self, status: int, reason: str, retry_after: float | None = None):
        super().__init__(f"{status}: {reason}" if status else reason)
        self.status, self.reason, self.retry_after = status, reason, retry_after


class ServerAddress:
    """`http(s)://host:port[/prefix]`, checked; `connect()` opens a new connection to it."""

    def __init__(self, base_url: str, timeout: float, cafile: str | None = None):
        """`cafile`: a CA (or the server's self-signed certificate) to trust for https, besides the system's."""
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"server URL must look like http://host:port, not {base_url!r}")
        self._factory: Callable[..., http.client.HTTPConnection] = (
            functools.partial(http.client.HTTPSConnection, context=tls.client_context(cafile))
            if parts.scheme == "https" else http.client.HTTPConnection)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.prefix = parts.path.rstrip("/")

    def connect(self) -> http.client.HTTPConnection:
        return self._factory(self.host, self.port, timeout=self.timeout)


def error_of(response: http.client.HTTPResponse, raw: bytes) -> ApiError:
    """The ApiError for a 4xx/5xx answer: the server's JSON `error`, else the start of the body."""
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        data = None
    reason = data.get("error") if isinstance(data, dict) else None
    retry_after = response.getheader("Retry-After")
    return ApiError(response.status, reason or raw[:200].decode("utf-8", "replace") or response.reason,
                    float(retry_after) if retry_after and retry_after.isdecimal() else None)
