"""`mixscope election ...`: drive a running server's elections through its admin API.

Each subcommand lives in a module listed in SUBCOMMAND_MODULES; the module's `register(add)` calls
`add(name, help, arguments, run)` once per subcommand, where `arguments(parser)` adds its options and
`run(args, admin) -> exit code` does the work with an `client.admin.AdminClient`. These modules are imported
when the parser is built, so they import only argparse-level things at the top. Every subcommand takes
`--server URL --token T [--cafile PEM]` (default: $MIXSCOPE_URL, $MIXSCOPE_TOKEN, $MIXSCOPE_CAFILE).

Exit codes: 0 done, 1 the server refused or could not be reached (one line on stderr), 2 a usage mistake.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Callable

SUBCOMMAND_MODULES = ["mixscope.election_steps"]
OFFLINE_MODULES = ["mixscope.credentials_cmd"]  # subcommands that need no server: `add_offline(steps)` -> runners

Runner = Callable[[argparse.Namespace, object], int]
_RUNNERS: dict[str, Runner] = {}
_OFFLINE: dict[str, Callable[[argparse.Namespace], int]] = {}


def add_parser(sub) -> None:
    election = sub.add_parser("election", help="run an election on a server: create, keygen, vote, mix, "
                                               "decrypt, publish, status, record, list")
    steps = election.add_subparsers(dest="election_command", metavar="STEP", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--server", metavar="URL", help="server URL (default: $MIXSCOPE_URL)")
    common.add_argument("--token", metavar="T", help="admin token (default: $MIXSCOPE_TOKEN; a flag is visible "
                                                     "in ps, the variable is not)")
    common.add_argument("--cafile", help="CA certificate (PEM) to trust for an https:// server (default: "
                                         "$MIXSCOPE_CAFILE)")

    def add(name: str, help: str, arguments: Callable[[argparse.ArgumentParser], None], run: Runner) -> None:
        parser = steps.add_parser(name, help=help, parents=[common])
        arguments(parser)
        _RUNNERS[name] = run

    for module in SUBCOMMAND_MODULES:
        importlib.import_module(module).register(add)
    for module in OFFLINE_MODULES:
        _OFFLINE.update(importlib.import_module(module).add_offline(steps))


def run(args: argparse.Namespace) -> int:
    if args.election_command in _OFFLINE:
        return _OFFLINE[args.election_command](args)
    from mixscope.client.admin import CAFILE_ENV, TOKEN_ENV, URL_ENV, AdminClient
    from mixscope.client.http_api import ApiError
    from mixscope.wire.tls import TlsError

    prog = f"mixscope election {args.election_command}"
    url = args.server or os.environ.get(URL_ENV)
    token = args.token or os.environ.get(TOKEN_ENV)
    if not url:
        print(f"{prog}: no server: pass --server URL or set ${URL_ENV}", file=sys.stderr)
        return 2
    if not token:
        print(f"{prog}: no admin token: pass --token T or set ${TOKEN_ENV}", file=sys.stderr)
        return 2
    try:
        admin = AdminClient(url, token, cafile=args.cafile or os.environ.get(CAFILE_ENV) or None)
    except (ValueError, TlsError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    try:
        return _RUNNERS[args.election_command](args, admin)
    except ApiError as exc:
        print(f"{prog}: {_one_line(exc.reason if exc.status == 0 else str(exc))}", file=sys.stderr)
        return 1
    except UsageMistake as exc:
        print(f"{prog}: {_one_line(str(exc))}", file=sys.stderr)
        return 2


class UsageMistake(Exception):
    """A mistake in the command's arguments found after parsing (e.g. an unreadable voter file)."""


def _one_line(text: str) -> str:
    return plain(" ".join(str(text).split())[:500])


def plain(text: object) -> str:
    """`text` safe for a terminal: control and format characters (escape sequences, bidi overrides, tabs,
    newlines) shown as Python escapes. Names, questions and reasons come from nodes and other admins."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in str(text))
