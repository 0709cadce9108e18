"""`mixscope serve`: the server without the panel. Prints where it listens and its tokens, runs until
SIGINT/SIGTERM, then stops cleanly. Log events go to stderr, one line each."""

from __future__ import annotations

import signal
import sys
import threading

from server import token_file
from server.hosts import is_loopback
from server.runner import ServerRunner
from wire import tls


def run(args) -> int:
    certfile, keyfile = getattr(args, "certfile", None), getattr(args, "keyfile", None)
    if keyfile and not certfile:
        print("mixscope serve: --keyfile needs --certfile", file=sys.stderr)
        return 2
    try:
        context = tls.server_context(certfile, keyfile) if certfile else None
    except tls.TlsError as exc:
        print(f"mixscope serve: {exc}", file=sys.stderr)
        return 2
    if not is_loopback(args.host) and context is None:
        print(f"warning: binding {args.host} without TLS exposes the server beyond this machine in clear text "
              "(tokens and ballots readable on the network); pass --certfile/--keyfile, use a firewall or keep "
              "the default 127.0.0.1.", file=sys.stderr, flush=True)
    runner = ServerRunner(host=args.host, port=args.port, data_dir=getattr(args, "data_dir", None), tls=context,
                          allowed_hosts=tuple(getattr(args, "allowed_host", None) or ()),
                          cluster=getattr(args, "cluster", None))
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
