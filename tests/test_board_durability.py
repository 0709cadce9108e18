"""kill -9 durability: a real writer process is SIGKILLed mid-stream; every write it acknowledged (printed)
is in the reopened file, the file is sound, and the election resumes where it stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mixscope.server.board import Board

WRITER = Path(__file__).with_name("board_writer.py")


def run_and_kill(path: Path, mode: str, election: str, acks_before_kill: int) -> list[dict]:
    """Start the writer, SIGKILL it once it has acknowledged `acks_before_kill` writes, and return every
    complete acknowledgement line it printed (including those still in the pipe when it died)."""
    proc = subprocess.Popen(
        [sys.executable, "-u", str(WRITER), str(path), mode, election],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    acks: list[dict] = []
    try:
        while len(acks) < acks_before_kill:
            line = proc.stdout.readline()
            assert line, f"writer stopped early: {proc.stderr.read()}"
            acks.append(json.loads(line))
        os.kill(proc.pid, signal.SIGKILL)  # mid-stream: the writer is busy committing the next ones
        rest = proc.stdout.read()
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    acks += [json.loads(line) for line in rest.splitlines(keepends=True) if line.endswith("\n")]
    return acks


@pytest.mark.slow
def test_every_acknowledged_ballot_survives_kill_9_and_voting_resumes(tmp_path):
    path = tmp_path / "board.sqlite3"
    first = run_and_kill(path, "ballots", "kill-ballots", 40)
    # the writer died holding the file open: its commits sit in the WAL, not yet checkpointed; reopening recovers them
    assert path.with_name(path.name + "-wal").stat().st_size > 0
    second = run_and_kill(path, "ballots", "kill-ballots", 40)  # a restarted server picks up where it stopped

    with Board(path) as board:
        assert board.integrity_check() == ["ok"]
        election = board.get_election("kill-ballots")
        assert election.state == "voting"
        stored = {b.voter_id: b for b in board.ballots("kill-ballots")}
        for ack in first + second:
            ballot = stored[ack["voter_id"]]
            assert (ballot.position, ballot.tracking_hash) == (ack["position"], ack["tracking_hash"])
        # at most the one ballot that was committed but not yet printed when the kill landed, per run
        assert len(first) + len(second) <= len(stored) <= len(first) + len(second) + 2
        assert sorted(b.position for b in stored.values()) == list(range(1, len(stored) + 1))
        # the second run continued the numbering rather than reusing voters or positions
        assert min(a["position"] for a in second) > max(a["position"] for a in first)
        receipt = board.add_ballot("kill-ballots", "late-voter", {"ct": ["after the crash"]})
        assert receipt.position == len(stored) + 1


def test_every_acknowledged_mix_stage_survives_kill_9_and_mixing_resumes(tmp_path):
    path = tmp_path / "board.sqlite3"
    acks = run_and_kill(path, "stages", "kill-mix", 15)
    acks += run_and_kill(path, "stages", "kill-mix", 15)

    with Board(path) as board:
        assert board.integrity_check() == ["ok"]
        assert board.get_election("kill-mix").state == "mixing"
        stages = board.mix_stages("kill-mix", accepted_only=True)
        by_index = {s.index: s.output_hash for s in stages}
        for ack in acks:
            assert by_index[ack["index"]] == ack["output_hash"]
        # the chain is unbroken: indices 0..n-1, each stage's input the previous stage's output
        assert [s.index for s in stages] == list(range(len(stages)))
        for previous, stage in zip(stages, stages[1:]):
            assert stage.input_hash == previous.output_hash
        assert board.next_mix_index("kill-mix") == len(stages)
