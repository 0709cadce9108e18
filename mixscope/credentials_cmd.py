"""`mixscope election credentials`: the credential authority, run apart from the server.

It makes one credential per voter (mixnet/credentials.py) and writes
  OUT/private/voter-NNNN.json   one private credential per voter (mode 0600, in a 0700 folder): hand each
                                voter theirs (the file, or the code in it to paste into a vote form)
  OUT/public-credentials.json   the public list, for `election.create` and for everyone to check
(formats in client/credential_file.py). Nothing private ever goes to the server; nothing is overwritten.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

PUBLIC_LIST = "public-credentials.json"
PRIVATE_DIR = "private"
MAX_VOTERS = 1_000_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--voters", metavar="FILE", help="voter names, one a line ('#' starts a comment)")
    who.add_argument("--count", type=int, metavar="N", help="N voters named voter-1 … voter-N")
    parser.add_argument("--out", required=True, metavar="DIR", help="a new or empty folder for the files")
    parser.add_argument("--json", action="store_true", help="print a JSON summary")


def add_offline(steps) -> dict:
    """`mixscope election credentials ...` among the `election` steps; it needs no server (mixscope/election_cli.py)."""
    add_arguments(steps.add_parser("credentials", help="make one credential per voter: private files and a "
                                                       "public list (the credential authority's job, no server)"))
    return {"credentials": run}


def voter_names(args: argparse.Namespace) -> list[str]:
    if args.count is not None:
        if not 1 <= args.count <= MAX_VOTERS:
            raise ValueError(f"--count must be 1..{MAX_VOTERS}")
        return [f"voter-{k}" for k in range(1, args.count + 1)]
    try:
        lines = Path(args.voters).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read voter file {args.voters}: {getattr(exc, 'strerror', None) or exc}") from None
    names = [line.split("#", 1)[0].strip() for line in lines]
    names = [n for n in names if n]
    if not names:
        raise ValueError(f"voter file {args.voters} lists no voter")
    if len(names) > MAX_VOTERS:
        raise ValueError(f"voter file {args.voters} lists more than {MAX_VOTERS} voters")
    if len(set(names)) != len(names):
        raise ValueError(f"voter file {args.voters} lists a voter twice")
    return names


def make(names: list[str], out: Path) -> dict:
    """Write the credentials of `names` under `out` (new or empty); return the summary."""
    from mixscope.client import credential_file
    from mixscope.mixnet import credentials

    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"{out} exists and is not an empty folder: credentials are never overwritten")
    private = out / PRIVATE_DIR
    private.mkdir(parents=True, mode=0o700)
    os.chmod(private, 0o700)  # mkdir's mode is masked by the umask
    made = credentials.generate(len(names))
    width = max(4, len(str(len(names))))
    for k, (name, credential) in enumerate(zip(names, made), start=1):
        credential_file.write_private(private / f"voter-{k:0{width}d}.json", name, credential)
    listing = credential_file.write_public(out / PUBLIC_LIST, [c.voter_id for c in made])
    return {"count": listing["count"], "fingerprint": listing["fingerprint"], "public_list": str(out / PUBLIC_LIST),
            "private_dir": str(private)}


def run(args: argparse.Namespace) -> int:
    prog = "mixscope election credentials"
    try:
        summary = make(voter_names(args), Path(args.out))
    except ValueError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{summary['count']} credentials\n"
              f"private (one file per voter, give each voter theirs): {summary['private_dir']}\n"
              f"public list (for election.create, publish it): {summary['public_list']}\n"
              f"fingerprint: {summary['fingerprint']}")
    return 0
