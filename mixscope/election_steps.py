"""The lifecycle subcommands of `mixscope election` (registered by mixscope/election_cli.py).

Each step waits until the server has done it. On a terminal (stdout a TTY) mix, decrypt and voting show a
progress bar with rate and ETA on stderr; `--json` prints one JSON object on stdout, otherwise a short line
(`create` prints the election id alone, for `ID=$(mixscope election create ...)`).
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
import urllib.parse
from pathlib import Path

from mixscope.election_cli import plain
from mixscope.wire.protocol import MIXER_CHEATS

TALLY_MODES = ("mixnet", "homomorphic")  # homomorphic: ballots summed, no cascade (mixnet/homomorphic.py)
CHEATS = MIXER_CHEATS
FINAL_STATES = ("published", "failed")
WATCH_QUIET = 5.0  # --watch reads the status on each event for the election, and at least this often
WATCH_GAP = 0.2  # ... but not more often than this: ballots and progress come in bursts


def register(add) -> None:
    add("create", "create an election; prints its id", _create_arguments, create)
    add("keygen", "run the key ceremony with the connected trustees; opens voting", _id_arguments,
        _step("election.keygen"))
    add("simulate-voters", "cast real ballots for N listed voters (credentials held by the lab)",
        _simulate_arguments, simulate_voters)
    add("close", "close voting", _id_arguments, _step("election.close"))
    add("mix", "run the mix cascade (each stage's proof checked)", _id_arguments, _step("election.mix"))
    add("decrypt", "proven decryption by the trustees, and the tally", _id_arguments, _step("election.decrypt"))
    add("publish", "build, verify and publish the election record", _id_arguments, _step("election.publish"))
    add("status", "state, nodes, progress (--watch follows it live)", _status_arguments, status)
    add("record", "save the published record to a file", _record_arguments, record)
    add("list", "every election on the server", _json_only, list_elections)


# --- arguments -------------------------------------------------------------------------------------------

def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _json_only(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _id_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("election_id", metavar="ID", help="the election id (create prints it)")
    _json_only(parser)


def _create_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--question", required=True, help="the question on the ballot")
    parser.add_argument("--candidates", required=True, nargs="+", metavar="NAME", help="two or more choices")
    parser.add_argument("--trustees", type=_positive, required=True, help="trustees holding key shares")
    parser.add_argument("--threshold", type=_positive, required=True, help="trustees needed to decrypt")
    parser.add_argument("--mixers", type=_positive, help="mix stages to accept (needed for --tally mixnet)")
    parser.add_argument("--credentials", required=True, metavar="FILE",
                        help="the public credential list (public-credentials.json from `mixscope election "
                             "credentials`): who may vote")
    voters = parser.add_mutually_exclusive_group()
    voters.add_argument("--voters", metavar="FILE", help="the lab's voter names, one a line ('#' starts a comment)")
    voters.add_argument("--voter-count", type=_positive, metavar="N", help="N lab voter names voter-1..voter-N")
    parser.add_argument("--tally", choices=TALLY_MODES, default="mixnet", help="tally mode (default mixnet)")
    parser.add_argument("--cheat", choices=CHEATS, help="one mixer spoils its stage (lab demos; the node must "
                                                        "run with --lab-cheats)")
    parser.add_argument("--cheat-mixer", type=_positive, default=1, metavar="K",
                        help="the cascade position (1-based) of the cheating mixer (default 1)")
    _json_only(parser)


def _simulate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("election_id", metavar="ID")
    parser.add_argument("--credentials", required=True, metavar="DIR",
                        help="the voters' private credential files (the lab holds them: `mixscope election "
                             "credentials` wrote them to OUT/private)")
    parser.add_argument("--n", type=_positive, help="how many voters cast (default: every one who has not voted)")
    _json_only(parser)


def _status_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("election_id", metavar="ID")
    parser.add_argument("--watch", action="store_true", help="follow it until published or failed (Ctrl+C stops)")
    _json_only(parser)


def _record_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("election_id", metavar="ID")
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="where to write the record JSON")
    _json_only(parser)


# --- output ----------------------------------------------------------------------------------------------

def _print(args, value: dict, line: str) -> int:
    print(json.dumps(value, separators=(",", ":")) if args.json else plain(line), flush=True)
    return 0


def _bar():
    from mixscope.progress_bar import ProgressBar

    return ProgressBar(sys.stderr, enabled=sys.stdout.isatty())


def _progress_line(status: dict) -> tuple[str, int, int] | None:
    progress = status.get("progress")
    if not progress or not progress.get("total"):
        return None
    task = progress.get("task") or "work"
    election = status.get("election", {})
    if task == "mix":
        stage = progress.get("stage")
        where = f" stage {stage + 1}/{election.get('mixers', '?')}" if isinstance(stage, int) else ""
        label = f"mix{where} {progress.get('node') or ''} {progress.get('phase') or ''}"
    else:
        label = f"{task} {progress.get('node') or ''} {progress.get('phase') or ''}"
    return plain(" ".join(label.split())), int(progress.get("done") or 0), int(progress.get("total"))


# --- subcommands -----------------------------------------------------------------------------------------

def create(args, admin) -> int:
    from mixscope.client.credential_file import CredentialFileError, read_public
    from mixscope.election_cli import UsageMistake

    if args.mixers is None and args.tally == "mixnet":
        raise UsageMistake("--mixers is needed for a mixnet election (a homomorphic one has no cascade)")
    try:
        listed = read_public(args.credentials)
    except CredentialFileError as exc:
        raise UsageMistake(str(exc)) from None
    body = {"question": args.question, "candidates": args.candidates, "trustees": args.trustees,
            "threshold": args.threshold, "mixers": args.mixers or 1, "tally": args.tally, "credentials": listed}
    if args.voters:
        try:
            lines = Path(args.voters).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageMistake(f"cannot read voter file {args.voters}: {getattr(exc, 'strerror', None) or exc}")
        body["voters"] = [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]
        if not body["voters"]:
            raise UsageMistake(f"voter file {args.voters} lists no voter")
    elif args.voter_count:
        body["voters"] = [f"voter-{k}" for k in range(1, args.voter_count + 1)]
    if args.cheat:
        if args.cheat_mixer > args.mixers:
            raise UsageMistake(f"--cheat-mixer {args.cheat_mixer} is past the last of {args.mixers} mixers")
        body["cheat"], body["cheat_mixer"] = args.cheat, args.cheat_mixer - 1
    result = admin.run("election.create", body)
    return _print(args, {**result, "voters": len(body.get("voters", []))}, result["election_id"])


def _step(action: str):
    def step(args, admin) -> int:
        bar = _bar()

        def show(status: dict) -> None:
            line = _progress_line(status)
            if line is not None:
                bar.update(*line)

        try:
            result = admin.run(action, {"election_id": args.election_id}, on_status=show)
        finally:
            bar.close()
        return _print(args, result, f"{action.split('.')[1]}: done ({_summary(result)})")

    step.__name__ = action.replace(".", "_")
    return step


def _summary(result: dict) -> str:
    keys = ("ballots", "trustees", "tally", "sums", "accepted", "stages", "count", "counts", "invalid", "verified",
            "checks", "record_hash")
    parts = []
    for key in keys:
        if key in result:
            value = result[key]
            parts.append(f"{key} {' '.join(map(str, value)) if isinstance(value, list) else value}")
    return ", ".join(parts) or "ok"


def simulate_voters(args, admin) -> int:
    from mixscope.client.http_api import ApiError
    from mixscope.client.voters import SimulationError
    from mixscope.client.voters import simulate_voters as simulate
    from mixscope.election_cli import UsageMistake

    status = admin.status(args.election_id)
    election = status["election"]
    if election["state"] != "voting":
        raise ApiError(409, f"election {args.election_id} is {election['state']}, not voting")
    voters = admin.request("GET", f"/api/admin/elections/{urllib.parse.quote(args.election_id, safe='')}/voters")[1]
    listed, waiting = voters["voters"], set(voters["not_voted"])  # public credentials
    held = [c for c in _private_credentials(args.credentials) if c.voter_id in waiting]
    count = args.n or len(held)
    if not count or count > len(held):
        raise UsageMistake(f"--n {count}: {len(held)} of the credentials in {args.credentials} are listed for "
                           f"election {args.election_id} ({len(listed)} listed) and have not voted yet")
    choices = [secrets.randbelow(len(election["candidates"])) for _ in range(count)]
    bar = _bar()
    bar.begin("voting")
    started = time.monotonic()
    try:
        simulate(admin.url, args.election_id, choices, progress=lambda done, total: bar.update("voting", done, total),
                 credentials=held[:count], cafile=admin.cafile)
    except SimulationError as exc:
        raise ApiError(409, str(exc)) from None
    finally:
        bar.close()
    seconds = time.monotonic() - started
    tally = [choices.count(k) for k in range(len(election["candidates"]))]
    return _print(args, {"election_id": args.election_id, "cast": count, "choices": tally,
                         "seconds": round(seconds, 3)},
                  f"voting: {count} ballots cast in {seconds:.1f} s")


def _private_credentials(folder: str) -> list:
    """Every private credential file in `folder`, in file name order."""
    from mixscope.client.credential_file import CredentialFileError, read_private
    from mixscope.election_cli import UsageMistake

    try:
        paths = sorted(p for p in Path(folder).iterdir() if p.is_file())
        return [read_private(path)[1] for path in paths]
    except CredentialFileError as exc:
        raise UsageMistake(str(exc)) from None
    except OSError as exc:
        raise UsageMistake(f"cannot read credential folder {folder}: {exc.strerror or exc}") from None


def _status_text(status: dict) -> str:
    election = status["election"]
    parts = [f"{election['id']} {election['state']}", f"ballots {status.get('ballots', 0)}"]
    if election.get("reason"):
        parts.append(f"reason: {election['reason']}")
    if status.get("trustees"):
        parts.append(f"trustees {' '.join(status['trustees'])}")
    for stage in status.get("stages", []):
        parts.append(f"stage {stage['stage'] + 1} {stage.get('mixer')} {stage.get('status')}")
    nodes = status.get("nodes")
    if nodes is not None and election["state"] not in FINAL_STATES:
        parts.append("nodes " + (" ".join(n["name"] + ("" if n.get("joined") else " (not joined)") for n in nodes)
                                 or "none connected"))
    line = _progress_line(status)
    if line is not None and election["state"] in ("key_ceremony", "mixing", "decrypting"):
        parts.append(f"{line[0]} {line[1]}/{line[2]}")
    if status.get("result"):
        counts = status["result"].get("counts", [])
        parts.append("result " + " ".join(f"{n}={c}" for n, c in zip(election.get("candidates", []), counts)))
    if status.get("verified") is not None:
        parts.append("verified" if status["verified"] else "verification FAILED")
    return "; ".join(parts)


def status(args, admin) -> int:
    current = admin.status(args.election_id)
    if not args.watch:
        return _print(args, current, _status_text(current))
    return _watch(args, admin, current)


def _watch(args, admin, current: dict) -> int:
    """Print the status again whenever it changes, until the election is final and no step runs. The admin
    event stream says when to read it (an event of this election, a node coming or going); a plain read every
    few seconds covers a stream that cannot connect."""
    import threading

    from mixscope.client.admin import EventStream

    changed = threading.Event()

    def on_event(event: dict) -> None:
        data = event.get("data")
        if not event["kind"].startswith("election.") or (isinstance(data, dict)
                                                           and data.get("election_id") == args.election_id):
            changed.set()

    stream = EventStream(admin, on_event, on_snapshot=lambda _clients: changed.set(),
                         kinds="election.state,election.ballot,election.progress,election.stage,election.result,"
                               "election.verified,client.connected,client.disconnected")
    stream.start()
    last = None
    try:
        while True:
            text = json.dumps(current, separators=(",", ":"), sort_keys=True) if args.json \
                else plain(_status_text(current))
            if text != last:
                print(text, flush=True)
                last = text
            if current["election"]["state"] in FINAL_STATES and not current.get("jobs"):
                return 0
            changed.wait(WATCH_QUIET)
            time.sleep(WATCH_GAP)
            changed.clear()
            current = admin.status(args.election_id)
    except KeyboardInterrupt:
        return 0
    finally:
        stream.stop(timeout=1.0)


def record(args, admin) -> int:
    from mixscope.client.http_api import ApiError

    _, raw = admin.fetch("GET", f"/api/elections/{urllib.parse.quote(args.election_id, safe='')}/record")
    try:
        Path(args.output).write_bytes(raw)  # as the server sent it
    except OSError as exc:
        raise ApiError(0, f"cannot write {args.output}: {exc.strerror or exc}") from None
    parts = _record_parts(args, admin, raw)
    return _print(args, {"election_id": args.election_id, "record": args.output, "bytes": len(raw), "parts": parts},
                  f"record of {args.election_id} written to {args.output} ({len(raw)} bytes"
                  + (f", and {len(parts)} parts beside it)" if parts else ")"))


def _record_parts(args, admin, raw: bytes) -> list[str]:
    """A record published in parts (docs/verifier.md §2.1): each part saved beside the index, under its name."""
    from mixscope.client.http_api import ApiError
    from mixscope.mixnet import record_parts

    try:
        index = json.loads(raw)
    except ValueError:
        return []
    if not record_parts.is_parted(index):
        return []
    names = [ref["part"] for _, ref in record_parts.PartedRecord(index, lambda name: b"").references()]
    folder = Path(args.output).resolve().parent
    quoted = urllib.parse.quote(args.election_id, safe="")
    for name in names:
        _, data = admin.fetch("GET", f"/api/elections/{quoted}/record/{urllib.parse.quote(name, safe='')}")
        try:
            (folder / Path(name).name).write_bytes(data)
        except OSError as exc:
            raise ApiError(0, f"cannot write {name}: {exc.strerror or exc}") from None
    return names


def list_elections(args, admin) -> int:
    elections = admin.elections()
    if args.json:
        return _print(args, {"elections": elections}, "")
    for e in elections:
        fields = (e["id"], e["state"], f"{e['threshold']}-of-{e['trustees']} trustees, {e['mixers']} mixers",
                  e["question"])
        print("\t".join(plain(field) for field in fields))
    return 0
