"""`mixscope serve`: the server without the panel. Prints where it listens and its tokens, runs until
SIGINT/SIGTERM, then stops cleanly. Log events go to stderr, one line each."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from dataclasses import dataclass

from mixscope.server import token_file
from mixscope.server.hosts import is_loopback
from mixscope.server.runner import ServerRunner
from mixscope.wire import tls


@dataclass(frozen=True)
class ServeSettings:
    """`mixscope serve`'s options (mixscope/cli.py builds them once from the command line)."""

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: str | None = None
    certfile: str | None = None
    keyfile: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    cluster: str | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "ServeSettings":
        return cls(host=args.host, port=args.port, data_dir=args.data_dir, certfile=args.certfile,
                   keyfile=args.keyfile, allowed_hosts=tuple(args.allowed_host or ()), cluster=args.cluster)


def run(settings: ServeSettings) -> int:
    certfile, keyfile = settings.certfile, settings.keyfile
    if keyfile and not certfile:
        print("mixscope serve: --keyfile needs --certfile", file=sys.stderr)
        return 2
    try:
        context = tls.server_context(certfile, keyfile) if certfile else None
    except tls.TlsError as exc:
        print(f"mixscope serve: {exc}", file=sys.stderr)
        return 2
    if not is_loopback(settings.host) and context is None:
        print(f"warning: binding {settings.host} without TLS exposes the server beyond this machine in clear text "
              "(tokens and ballots readable on the network); pass --certfile/--keyfile, use a firewall or keep "
              "the default 127.0.0.1.", file=sys.stderr, flush=True)
    runner = ServerRunner(host=settings.host, port=settings.port, data_dir=settings.data_dir, tls=context,
                          allowed_hosts=settings.allowed_hosts, cluster=settings.cluster)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    logs = runner.channel.subscribe(maxlen=10_000, kinds=["log"])
    try:
        runner.start()
    except token_file.TokenFileError as exc:
        print(f"mixscope serve: {exc}", file=sys.stderr)
        return 2
    print(f"Mixscope server listening on {runner.url}", flush=True)
    print(f"websocket: {runner.ws_url}", flush=True)
    print(f"board: {runner.board.path}", flush=True)
    print(f"admin token: {runner.admin_token}", flush=True)
    print(f"join token: {runner.join_token}", flush=True)
    if runner.cluster:
        print(f"cluster: {runner.cluster} (connecting; the local pool works until then)", flush=True)
    try:
        while not stop.wait(0.2):
            for event in logs.drain():
                print(f"[{event.data['level']}] {event.data['text']}", file=sys.stderr, flush=True)
    finally:
        runner.close()  # the board is checkpointed and closed: board.sqlite3 alone holds everything
        print("stopped", flush=True)
    return 0
