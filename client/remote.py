"""A running server seen from elsewhere, with the surface of `server.runner.ServerRunner` that the panel uses.

`mixscope gui --connect URL` hands the panel a `RemoteServer` instead of a runner: `channel` is a local
EventChannel fed from the server's admin event stream, `call(action, args)` runs the action through the
admin API on a worker thread and returns a Future, `start()` / `stop()` connect and disconnect (the remote
server keeps running). A dropped stream publishes `server.stopped` with `remote: true` and the reason, and the
reader reconnects on its own; each (re)connection publishes `server.started` and the server's current
clients. Qt-free: the panel adapts it in gui/remote.py.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import re
import shutil
import tempfile
import threading
import urllib.parse
from pathlib import Path
from typing import Any

from mixscope.client.admin import AdminClient, EventStream
from mixscope.client.http_api import ApiError
from mixscope.wire.events import Event, EventChannel

CALL_WORKERS = 4
CONNECT_TIMEOUT = 10.0
# Panel actions that are plain admin routes (POST /api/admin/<action>, body = args).
PLAIN_ACTIONS = ("send", "broadcast", "disconnect", "roll_call")


class RemoteServer:
    remote = True  # the panel asks for the current election when it attaches

    def __init__(self, url: str, token: str, cafile: str | None = None, channel: EventChannel | None = None):
        self.admin = AdminClient(url, token, cafile=cafile)
        self.url = self.admin.url
        self.admin_token = token
        self.channel = channel or EventChannel()
        self.data_dir = None  # nodes spawned here keep their keys in the per-user data directory
        self.join_token = ""
        self.ws_url = ""
        self.port = urllib.parse.urlsplit(self.url).port
        self.running = False
        self.state, self.detail = "stopped", ""
        self._stream: EventStream | None = None
        self._live = threading.Event()
        # client id -> last snapshot, to mark the ones gone while away
        self._known: dict[str | None, dict[str, Any]] = {}
        self._calls = concurrent.futures.ThreadPoolExecutor(CALL_WORKERS, thread_name_prefix="remote-call")
        self._records = Path(tempfile.mkdtemp(prefix="mixscope-records-"))

    # --- lifecycle (the panel's Start / Stop: connect / disconnect) ------------------------------------------

    def start(self, timeout: float = CONNECT_TIMEOUT) -> None:
        """Connect: read the join token (this also checks the URL and the token), follow the event stream.
        Raises ApiError when the server cannot be reached or refuses the token."""
        if self._stream is not None:
            return
        info = self.admin.server_info()
        self.join_token, self.ws_url = info["join_token"], info["ws_url"]
        self._live.clear()
        self._stream = EventStream(self.admin, self._event, self._state_changed, on_snapshot=self._snapshot)
        self._stream.start()
        if not self._live.wait(timeout):
            self.stop()
            raise ApiError(0, f"no event stream from {self.url} within {timeout:g} s: {self.detail}")

    def stop(self, timeout: float = 10) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.stop(timeout)
        if self.running:
            self.running = False
            self._publish("server.stopped", {"remote": True, "text": "disconnected"})

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        """Disconnect for good: no more calls, and the downloaded records go."""
        self.stop()
        self._calls.shutdown(wait=False, cancel_futures=True)
        shutil.rmtree(self._records, ignore_errors=True)

    # --- the stream -----------------------------------------------------------------------------------------

    def _publish(self, kind: str, data: dict[str, Any]) -> None:
        self.channel.publish(kind, data)

    def _state_changed(self, state: str, detail: str) -> None:
        self.state, self.detail = state, detail
        if state == "connected":
            self.running = True
            self._publish("server.started", {"url": self.url, "ws_url": self.ws_url, "remote": True})
            self._live.set()
        elif state in ("disconnected", "unauthorized") and self.running:
            self.running = False
            text = "refused the admin token" if state == "unauthorized" else "connection lost, reconnecting…"
            self._publish("server.stopped", {"remote": True, "text": text, "reason": detail})

    def _snapshot(self, clients: list[dict]) -> None:
        live = {c.get("id") for c in clients}
        for client_id, snapshot in list(self._known.items()):
            if client_id not in live and snapshot.get("state") != "disconnected":
                self._known[client_id] = {**snapshot, "state": "disconnected"}
                self.channel.publish("client.disconnected", {"client": self._known[client_id], "code": None,
                                                             "reason": "gone while the panel was away"}, client_id)
        for snapshot in clients:
            self._known[snapshot.get("id")] = snapshot
            self.channel.publish("client.connected", {"client": snapshot}, snapshot.get("id"))

    def _event(self, raw: dict) -> None:
        data = raw.get("data")
        if not isinstance(data, dict):
            data = {}
        kind = raw["kind"]
        if kind in ("server.started", "server.stopped"):
            return  # the remote server's own lifecycle: this side says connected / disconnected instead
        client = data.get("client")
        if kind.startswith("client.") and isinstance(client, dict):
            self._known[client.get("id")] = client
        self.channel.deliver(Event(kind, data, raw.get("client_id"), float(raw.get("at") or 0.0),
                                   int(raw.get("seq") or 0)))

    # --- actions --------------------------------------------------------------------------------------------

    def call(self, action: str, args: dict[str, Any] | None = None) -> concurrent.futures.Future:
        """Run a panel action through the admin API; the Future gives its dict or raises ApiError (`reason`)."""
        if not self.running:
            future: concurrent.futures.Future = concurrent.futures.Future()
            future.set_exception(ApiError(503, "not connected to the server"))
            return future
        return self._calls.submit(self._run, action, dict(args or {}))

    def _run(self, action: str, args: dict[str, Any]) -> dict:
        if action == "clients":
            return {"clients": self.admin.clients()}
        if action in PLAIN_ACTIONS:
            return self.admin.request("POST", f"/api/admin/{action}", args)[1]
        result = self.admin.run(action, args)
        if action == "election.publish" and result.get("election_id"):
            result = {**result, "record": self._download_record(result["election_id"])}
        return result

    def _download_record(self, election_id: str) -> str:
        """The published record as a local file (the server's path means nothing on this machine)."""
        _, raw = self.admin.fetch("GET", f"/api/elections/{urllib.parse.quote(election_id, safe='')}/record")
        path = self._records / record_file_name(election_id)
        path.write_bytes(raw)
        return str(path)


def record_file_name(election_id: str) -> str:
    """A local file name for a record: the id is the server's text, so anything but a plain id (a path, a
    dot name) is replaced by its digest."""
    if re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}", election_id) and ".." not in election_id:
        return f"record-{election_id}.json"
    return f"record-{hashlib.sha256(election_id.encode('utf-8', 'replace')).hexdigest()[:16]}.json"
