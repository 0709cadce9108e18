"""A Qt-free client of a running server's admin side: the HTTP admin API and the admin event stream.

`AdminClient` runs election steps (`run` waits for a long step's job, calling back with the election's status
as it goes), lists elections and reads the join token. `EventStream` follows `/api/admin/events` on its own
thread, hands each event to a callback and reconnects with back-off when the connection drops. The
`mixscope election` command and the panel's `--connect` mode (gui/remote.py) both use them.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from typing import Any, Callable

import websocket

from mixscope.client.backoff import Backoff
from mixscope.client.http_api import ApiError, ServerAddress, error_of
from mixscope.wire import tls

URL_ENV, TOKEN_ENV, CAFILE_ENV = "MIXSCOPE_URL", "MIXSCOPE_TOKEN", "MIXSCOPE_CAFILE"
TIMEOUT = 30.0
POLL_WAIT = 1.0  # seconds a job poll may wait on the server for the job to finish


class AdminClient:
    """The admin API of one server. Thread-safe: every request uses its own connection."""

    def __init__(self, base_url: str, token: str, cafile: str | None = None, timeout: float = TIMEOUT):
        self._server = ServerAddress(base_url, timeout, cafile)
        if not token:
            raise ValueError("an admin token is needed (--token or $MIXSCOPE_TOKEN)")
        if not (token.isascii() and token.isprintable()) or " " in token:
            # it goes into a header line: a newline or a non-Latin-1 character would fail deep in http.client
            raise ValueError("the admin token must be printable ASCII without spaces (as mixscope serve prints it)")
        self.url, self.token, self.cafile = base_url.rstrip("/"), token, cafile

    @property
    def events_url(self) -> str:
        return ("wss" if self.url.startswith("https") else "ws") + self.url[self.url.index(":"):] + "/api/admin/events"

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One request; raises ApiError for a 4xx/5xx (with the server's reason) or an unreachable server."""
        status, raw = self.fetch(method, path, body)
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            raise ApiError(status, f"the server's answer is not JSON: {raw[:100]!r}") from None

    def fetch(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        """`request` without parsing: (status, body bytes) of a 2xx answer, as sent (e.g. a record to save)."""
        payload = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = {"Authorization": f"Bearer {self.token}"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        conn = self._server.connect()
        try:
            conn.request(method, self._server.prefix + path, body=payload, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        except (ConnectionError, http.client.HTTPException, OSError) as exc:
            raise ApiError(0, f"cannot reach {self.url}: {getattr(exc, 'strerror', None) or exc}") from None
        finally:
            conn.close()
        if response.status >= 400:
            error = error_of(response, raw)
            if error.reason == "unauthorized":
                raise ApiError(error.status, "unauthorized: wrong admin token")
            raise error
        return response.status, raw

    def action(self, action: str, args: dict[str, Any] | None = None, wait: float = 1.0) -> tuple[int, dict]:
        """POST one election action: (200, result) or, for a long step still running, (202, job)."""
        return self.request("POST", f"/api/admin/{action}?wait={wait:g}", args or {})

    def job(self, job_id: str, wait: float = POLL_WAIT) -> dict:
        return self.request("GET", f"/api/admin/jobs/{urllib.parse.quote(job_id, safe='')}?wait={wait:g}")[1]

    def run(self, action: str, args: dict[str, Any] | None = None,
            on_status: Callable[[dict], None] | None = None) -> dict:
        """Run one action to its end: the step's result. A failed step raises ApiError (status 409 for a step
        the server started and that failed later, with its reason). `on_status(status)` is called between
        polls with the election's status (state, progress) while a long step runs."""
        status, body = self.action(action, args)
        if status != 202:
            return body
        while True:
            job = self.job(body["job"], wait=0.2 if on_status else POLL_WAIT)
            if job["state"] == "done":
                return job["result"]
            if job["state"] == "failed":
                raise ApiError(409, job["error"])
            if on_status is not None and job.get("election_id"):
                try:
                    on_status(self.status(job["election_id"]))
                except ApiError:
                    pass  # a status read that failed: the job poll says what matters
                time.sleep(0.3)

    def status(self, election_id: str) -> dict:
        return self.action("election.status", {"election_id": election_id})[1]

    def current(self) -> dict:
        return self.action("election.current")[1]

    def elections(self) -> list[dict]:
        return self.action("election.list")[1]["elections"]

    def server_info(self) -> dict:
        """{url, ws_url, join_token, events}: what a node spawned elsewhere needs to join."""
        return self.request("GET", "/api/admin/server")[1]

    def clients(self) -> list[dict]:
        return self.request("GET", "/api/clients")[1]["clients"]


class EventStream:
    """Follows the admin event stream on a daemon thread: `on_snapshot(clients)` first on each connection,
    `on_event(dict)` for each event (kind, data, client_id, at, seq), `on_state(state, detail)` for
    connecting / connected / disconnected. Reconnects with back-off until `stop()`; a refused token stops it
    (state "unauthorized"). `dropped`: events the server dropped because this reader was slow."""

    def __init__(self, client: AdminClient, on_event: Callable[[dict], None],
                 on_state: Callable[[str, str], None] = lambda *_: None, backoff: Backoff | None = None,
                 on_snapshot: Callable[[list], None] = lambda _clients: None, kinds: str = ""):
        self.client, self.on_event, self.on_state, self.on_snapshot = client, on_event, on_state, on_snapshot
        self.kinds, self.dropped = kinds, 0
        self.backoff = backoff or Backoff(first=0.25, cap=5.0)
        self._stopping = threading.Event()
        self._app: websocket.WebSocketApp | None = None
        self._thread: threading.Thread | None = None
        self.connected = False

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="admin-events", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        app = self._app
        if app is not None:
            app.close()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        sslopt = tls.client_sslopt(self.client.cafile) if self.client.url.startswith("https") else {}
        while not self._stopping.is_set():
            self.on_state("connecting", self.client.url)
            refused: list[str] = []
            self._app = websocket.WebSocketApp(
                self.client.events_url + (f"?kinds={self.kinds}" if self.kinds else ""),
                header=[f"Authorization: Bearer {self.client.token}"],
                on_message=lambda _app, frame: self._message(frame),
                on_error=lambda _app, error: refused.append(str(error)))
            self._app.run_forever(sslopt=sslopt, ping_interval=10, ping_timeout=5)
            was_connected, self.connected = self.connected, False
            if self._stopping.is_set():
                break
            detail = refused[-1] if refused else "connection closed"
            if "401" in detail or "403" in detail:
                self.on_state("unauthorized", "the server refused the admin token")
                return
            self.on_state("disconnected", detail[:200])
            if was_connected:
                self.backoff.reset()
            self._stopping.wait(self.backoff.next_delay())
        self.on_state("stopped", "")

    def _message(self, frame: str | bytes) -> None:
        try:
            message = json.loads(frame)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        if message.get("type") == "snapshot":  # sent once the server subscribed: live from here on
            self.connected = True
            self.backoff.reset()
            self.on_snapshot(message.get("clients") or [])
            self.on_state("connected", self.client.url)
        elif message.get("type") == "events":
            self.dropped = int(message.get("dropped") or 0)
            for event in message.get("events") or []:
                if isinstance(event, dict) and isinstance(event.get("kind"), str):
                    self.on_event(event)
