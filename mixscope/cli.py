"""`mixscope`: one command, one subcommand per job. Each job's code lives in its own layer and is imported
only when that subcommand runs, so `mixscope node` never loads Qt and `mixscope serve` never loads the GUI."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from mixscope import allocator
from mixscope.wire.protocol import MIXER_CHEATS  # plain data: parsing arguments imports no crypto

# subcommand -> (module:function that runs it, one-line help). The function takes the parsed args and
# returns an exit code.

COMMANDS = {
    "gui": ("mixscope.gui.app:run", "open the panel (the default when no subcommand is given)"),
    "serve": ("mixscope.server.serve:run", "run the server headless and print its URL and tokens"),
    "node": ("mixscope.client.node:run", "run a websocket node (mixer, trustee, voter) against a server"),
    "bench": ("mixscope.bench:run", "run a benchmark and print JSON"),
    "vote": ("mixscope.client.vote:run", "encrypt a choice here and cast it through a server's JSON API"),
    "verify": ("mixscope.client.verify:run", "check a published election record, one line per check"),
    "demo": ("mixscope.demo:run", "a whole election with real node processes, timed; exit 0 if it verifies"),
    "election": ("mixscope.election_cli:run", "run an election on a server through its admin API"),
}


# subcommand -> its typed settings ("module:Class" with a `from_args(args)` classmethod): built once here from
# the parsed command line and handed to the subcommand instead of the argparse namespace.
SETTINGS = {
    "gui": "mixscope.gui.app:PanelSettings",
    "serve": "mixscope.server.serve:ServeSettings",
    "node": "mixscope.client.node:NodeSettings",
    "demo": "mixscope.demo:DemoSettings",
}


class UsageError(Exception):
    """A mistake in what the user asked for: printed as one line, exit code 2."""


class OneLineParser(argparse.ArgumentParser):
    """A usage mistake is one line on stderr (the usage itself is one --help away) and exit code 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0..65535, not {value}")
    return value


def count(text: str) -> int:
    """A number of things (ballots, clients, rounds...): at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="mixscope", description="Control panel and lab for verifiable mixnet e-voting.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_gui(sub)
    _add_serve(sub)
    _add_node(sub)
    _add_demo(sub)
    _add_bench(sub)
    _add_vote(sub)
    _add_verify(sub)
    from mixscope import election_cli  # its subcommands come from their own modules

    election_cli.add_parser(sub)
    return parser


def cluster_address(text: str) -> str:
    from mixscope.engine.address import ClusterAddressError, parse_address

    try:
        return str(parse_address(text))
    except ClusterAddressError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _cluster_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cluster", type=cluster_address, metavar="ADDRESS",
                        help="run the proof work on a Dask cluster: tcp://HOST:PORT (a scheduler) or local:N "
                             "(N worker processes here); needs the 'cluster' extra; falls back to local processes")


def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON (the only format for now)")


def _add_gui(sub) -> None:
    gui = sub.add_parser("gui", help=COMMANDS["gui"][1])
    gui.add_argument("--port", type=port, default=0, help="server port (0: any free port)")
    gui.add_argument("--demo", action="store_true", help="play a whole election, one captioned phase at a time")
    gui.add_argument("--demo-voters", type=int, default=40, help="ballots the demo casts (default 40)")
    gui.add_argument("--demo-quit", action="store_true", help="quit when the demo ends (exit 0 if it verified)")
    gui.add_argument("--demo-delay", type=float, default=4.0, help="seconds auto-play pauses at each phase")
    gui.add_argument("--tally", choices=("mixnet", "homomorphic"), default="mixnet",
                     help="the demo's tally mode (default mixnet)")
    gui.add_argument("--open", metavar="FOLDER", help="show a saved session (traffic + record) read-only")
    gui.add_argument("--certfile", help="TLS certificate (PEM): the panel's server speaks https and wss")
    gui.add_argument("--keyfile", help="TLS private key (PEM) for --certfile")
    gui.add_argument("--connect", metavar="URL", help="attach to a running `mixscope serve` instead of starting a "
                                                      "server (its actions go through the admin API)")
    gui.add_argument("--token", help="admin token for --connect (default: $MIXSCOPE_TOKEN)")
    gui.add_argument("--cafile", help="CA certificate (PEM) to trust for an https:// --connect URL")
    _allowed_host_flag(gui)


def _add_serve(sub) -> None:
    serve = sub.add_parser("serve", help=COMMANDS["serve"][1])
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    serve.add_argument("--port", type=port, default=8000, help="port (0: any free port)")
    serve.add_argument("--data-dir", help="bulletin board directory (default: the per-user data directory)")
    serve.add_argument("--certfile", help="TLS certificate (PEM): serve https and wss")
    serve.add_argument("--keyfile", help="TLS private key (PEM) for --certfile")
    _allowed_host_flag(serve)
    _cluster_flag(serve)


def _allowed_host_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                        help="a host name browsers and nodes may use for this server, besides its address "
                             "(repeatable; loopback names are always allowed on loopback)")


def _add_node(sub) -> None:
    node = sub.add_parser("node", help=COMMANDS["node"][1])
    node.add_argument("--url", required=True, help="websocket URL, e.g. ws://127.0.0.1:8000/ws")
    node.add_argument("--name", required=True, help="name shown in the panel")
    node.add_argument("--role", default="mixer", choices=["mixer", "trustee", "voter"], help="the node's role")
    node.add_argument("--join-token", help="the server's join token (default: $MIXSCOPE_JOIN_TOKEN, kept out of ps)")
    node.add_argument("--data-dir", help="where the node keeps its key (default: the per-user data directory)")
    node.add_argument("--cheat", choices=list(MIXER_CHEATS),
                      help="mixers: spoil every stage, one way per rejection class (demos, tests)")
    node.add_argument("--lab-cheats", action="store_true",
                      help="mixers: spoil a stage when the server's election says so (lab demos; off by default)")
    node.add_argument("--workers", type=int, default=1, help="processes for proof work (default 1: in-process)")
    node.add_argument("--skip-stage-proofs", action="store_true",
                      help="trustees, lab only: before decrypting, trust the server's check of each mix stage's proof "
                           "(signatures, listing, chaining and statements are still checked)")
    node.add_argument(
        "--nice", type=int, default=0, help="raise the node's niceness by N, 0..19 (labs sharing one machine: 10)"
    )
    node.add_argument("--cafile", help="CA certificate (PEM) to trust for a wss:// server (e.g. its self-signed cert)")
    _cluster_flag(node)


def _add_demo(sub) -> None:
    demo = sub.add_parser("demo", help=COMMANDS["demo"][1])
    demo.add_argument("--voters", type=int, default=50, help="ballots to cast")
    demo.add_argument("--mixers", type=int, default=3, help="mixer nodes")
    demo.add_argument("--trustees", type=int, default=3, help="trustee nodes")
    demo.add_argument("--threshold", type=int, default=2, help="trustees needed to decrypt")
    demo.add_argument("--candidates", nargs="+", help="candidate names (default: alice bob carol)")
    demo.add_argument("--cheat", choices=list(MIXER_CHEATS), help="mixer-1 spoils its stage")
    demo.add_argument(
        "--data-dir", help="board and record directory (default: a new folder under the per-user data directory)"
    )
    demo.add_argument("--full-verify", action="store_true",
                      help="re-verify every proof when publishing, as `mixscope verify` does (default: the ballot, "
                           "stage and share proofs the server checked on arrival are not checked twice)")
    demo.add_argument("--json", action="store_true", help="print the report as JSON")
    demo.add_argument("--tally", choices=("mixnet", "homomorphic"), default="mixnet",
                      help="mixnet (a verified cascade) or homomorphic (ballots summed, only the sums decrypted)")
    _cluster_flag(demo)


def _add_bench(sub) -> None:
    bench = sub.add_parser("bench", help=COMMANDS["bench"][1])
    bench_sub = bench.add_subparsers(dest="bench", metavar="WHAT", required=True)
    gui_bench = bench_sub.add_parser("gui", help="panel loop lateness and CPU share while a big election runs")
    gui_bench.add_argument("--ballots", type=count, default=10_000, help="ballots cast and mixed by 3 mixers")
    _json_flag(gui_bench)
    traffic = bench_sub.add_parser("traffic", help="traffic log throughput and GUI loop lateness")
    traffic.add_argument("--seconds", type=seconds, default=10.0, help="total measuring time")
    _json_flag(traffic)
    crypto = bench_sub.add_parser("crypto", help="shuffle, prove and verify cost in scalar-mult equivalents")
    crypto.add_argument("--n", type=int, default=1000, help="number of ciphertexts")
    crypto.add_argument("--no-parallel", action="store_true", help="skip the process-pool run")
    _backend_flag(crypto)
    _json_flag(crypto)
    nodes = bench_sub.add_parser("nodes", help="a real mixer node's round trip (chunks, signatures) vs the proof work")
    nodes.add_argument("--n", type=count, default=2000, help="number of ciphertexts")
    _json_flag(nodes)
    server_bench = bench_sub.add_parser("server",
                                        help="bridge roll call round trips to real nodes, inbound frames/s, stop")
    server_bench.add_argument("--nodes", type=count, default=4, help="node processes")
    server_bench.add_argument("--rounds", type=count, default=300, help="roll call round trips")
    server_bench.add_argument("--frames", type=count, default=20000, help="frames sent by one client")
    _json_flag(server_bench)
    voters = bench_sub.add_parser("voters", help="ballots/s cast by the voter simulator through the JSON API")
    voters.add_argument("--n", type=count, default=1000, help="number of ballots")
    voters.add_argument("--concurrency", type=count, default=4, help="HTTP posting threads")
    voters.add_argument("--workers", type=int, default=None, help="encryption processes (default: all cores)")
    voters.add_argument("--post-batch", type=count, default=200, help="ballots per request (1: one post each)")
    voters.add_argument("--tally", choices=("mixnet", "homomorphic"), default="mixnet",
                        help="the election's tally mode: what a ballot is (default mixnet)")
    _json_flag(voters)
    load = bench_sub.add_parser("load", help="1,000 websocket clients on one server; 10,000 ballots from 50 voters")
    load.add_argument("--clients", type=count, default=1000, help="concurrent websocket clients")
    load.add_argument("--rounds", type=count, default=20, help="round trips per client")
    load.add_argument("--ballots", type=count, default=10000, help="ballots to cast through the JSON API")
    load.add_argument("--voters", type=count, default=50, help="concurrent posting voters")
    load.add_argument("--post-batch", type=count, default=1, help="ballots per request (default 1: one per voter)")
    load.add_argument("--skip-websockets", action="store_true", help="only the ballots part")
    load.add_argument("--skip-ballots", action="store_true", help="only the websocket part")
    _json_flag(load)
    attack = bench_sub.add_parser("attack", help="hostile input against a real `mixscope serve`: answers and RSS")
    attack.add_argument("--recover", type=seconds, default=60.0, help="seconds to watch RSS return after an attack")
    attack.add_argument(
        "--idle-wait", type=seconds, default=40.0, help="seconds to wait for a silent TCP client's close"
    )
    _json_flag(attack)
    verify = bench_sub.add_parser("verify", help="`mixscope verify RECORD` on native and on sodium, side by side")
    verify.add_argument("record", metavar="RECORD",
                        help="an election record (e.g. the `record` a `mixscope demo --json` report names)")
    verify.add_argument("--rounds", type=count, default=3, help="runs per backend, alternating (default 3)")
    verify.add_argument("--workers", type=int, default=None, help="each run's pool processes (default: all cores)")
    _json_flag(verify)
    scale = bench_sub.add_parser("scale", help="shuffle+prove and verify ct/s on 1 and 2 local vs Dask workers")
    scale.add_argument("--n", type=count, default=20_000, help="number of ciphertexts")
    scale.add_argument("--rounds", type=count, default=3,
                       help="rounds of the four runs, in alternating order; figures are medians over them")
    _cluster_flag(scale)
    _json_flag(scale)


def _add_vote(sub) -> None:
    vote = sub.add_parser("vote", help=COMMANDS["vote"][1])
    vote.add_argument("--server", required=True, help="server URL, e.g. http://127.0.0.1:8000")
    vote.add_argument("--election", required=True, help="election id")
    vote.add_argument("--credential", required=True, metavar="FILE",
                      help="your private credential file (or a file holding just its code)")
    vote.add_argument("--choice", required=True, help="candidate index (0-based) or exact name")
    vote.add_argument(
        "--cafile", help="CA certificate (PEM) to trust for an https:// server (e.g. its self-signed cert)"
    )


def _add_verify(sub) -> None:
    verify = sub.add_parser("verify", help=COMMANDS["verify"][1])
    verify.add_argument("record", metavar="RECORD", help="the election record JSON file")
    verify.add_argument("--workers", type=int, default=None, help="processes for proof checks (default: all cores)")
    _backend_flag(verify)
    _cluster_flag(verify)


BACKENDS = ("native", "sodium")


def _backend_flag(parser) -> None:
    parser.add_argument("--backend", choices=BACKENDS, default=None,
                        help="arithmetic for proof checks: native (the C extension, the default when built) or "
                             "sodium (libsodium only); same results either way. Also MIXSCOPE_BACKEND")


def _choose_backend(args) -> None:
    """Apply --backend (or check MIXSCOPE_BACKEND) before anything imports the crypto core; the environment
    carries the choice to pool workers and node processes."""
    chosen = getattr(args, "backend", None)  # only `bench crypto` and `verify` take --backend
    wanted = chosen or os.environ.get("MIXSCOPE_BACKEND", "").strip().lower()
    if not wanted:
        return
    if wanted not in BACKENDS:
        raise UsageError(f"MIXSCOPE_BACKEND must be one of {', '.join(BACKENDS)}, not {wanted!r}")
    os.environ["MIXSCOPE_BACKEND"] = wanted
    if chosen == "native":
        from mixscope.mixnet import group

        if not group.native_available():
            raise UsageError("the native backend is not built in this install (it needs a C compiler at install time)")
        group.use_backend("native")
    elif chosen == "sodium":
        from mixscope.mixnet import group

        group.use_backend("sodium")


def settings_for(args: argparse.Namespace):
    """The subcommand's typed settings, or the namespace itself for the commands that read it directly."""
    target = SETTINGS.get(args.command)
    if target is None:
        return args
    module_name, class_name = target.split(":")
    return getattr(importlib.import_module(module_name), class_name).from_args(args)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["gui", *argv]  # `mixscope` / `mixscope --port 8000` open the panel
    args = parser.parse_args(argv)
    # before the threads and pools that handle big texts start (mixscope/allocator.py)
    allocator.tune(short_lived=args.command == "verify")
    module_name, func_name = COMMANDS[args.command][0].split(":")
    try:
        _choose_backend(args)
        func = getattr(importlib.import_module(module_name), func_name)
        return int(func(settings_for(args)) or 0)
    except UsageError as exc:
        print(f"mixscope {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        print(f"mixscope {args.command}: {exc.strerror or exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
