"""`mixscope demo`: a whole election across real processes, timed phase by phase.

Starts a server (tmp data dir unless --data-dir), spawns the mixer and trustee nodes as `mixscope node`
children, makes one credential per voter (as the credential authority would: the server gets only the public
list), casts N signed ballots through the JSON API (client/voters.py), then drives create → key ceremony →
voting → close → mix cascade → proven decryption → publish through the bridge, and checks that the record
verifies and that the tally equals what was cast. Publishing verifies the record without checking again the
proofs the server checked on arrival (every ballot, stage and share), unless --full-verify. With --cheat,
mixer-1 spoils its stage: the proofs must catch it and the honest mixers finish the election. With --cluster,
the server and every node do their proof work on one Dask cluster (`local:N`: one the demo starts) and the
report's "cluster" says how many tasks it ran. Every child is stopped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from mixscope.cli import UsageError
from mixscope.client.voters import simulate_voters_in_child
from mixscope.mixnet import credentials
from mixscope.mixnet.group import backend
from mixscope.peak_rss import PeakRss

STEP_TIMEOUT = 1800.0
NODE_NICENESS = 10  # the demo's nodes share this machine with the server (and maybe a panel): they yield


class DemoNodes:
    """The node children of one demo; `stop()` ends all of them (SIGTERM, then SIGKILL)."""

    def __init__(self, ws_url: str, join_token: str, data_dir: Path):
        self.ws_url, self.data_dir = ws_url, data_dir
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", "MIXSCOPE_JOIN_TOKEN": join_token}
        self.procs: list[subprocess.Popen] = []
        self.names: list[str] = []
        self.log_dir = data_dir / "node-logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)

    def spawn(self, role: str, name: str, *extra: str) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "w")
        args = [sys.executable, "-u", "-m", "mixscope", "node", "--role", role, "--url", self.ws_url, "--name", name,
                "--data-dir", str(self.data_dir / "nodes"), "--nice", str(NODE_NICENESS), *extra]
        proc = subprocess.Popen(args, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        self.procs.append(proc)
        self.names.append(name)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 10
        for proc in self.procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def process_cpu(node_names: dict[int, str]) -> dict[int, tuple[str, float]]:
    """CPU seconds so far of the demo's processes, each with the role it counts under: "server" (this
    process, with the server in it), a node's role ("mixer", "trustee"), or that name + " pool" for a process
    pool's worker: a descendant of a node, or of this process that is no node (the server's pool; its
    forkserver makes the workers grandchildren)."""
    import psutil

    me = psutil.Process()
    seconds = {}
    for proc in [me, *me.children(recursive=True)]:
        try:
            times = proc.cpu_times()
            seconds[proc.pid] = (_role(proc, me.pid, node_names), times.user + times.system)
        except psutil.Error:  # it ended meanwhile
            continue
    return seconds


def _role(proc, server_pid: int, node_names: dict[int, str]) -> str:
    if proc.pid == server_pid:
        return "server"
    if proc.pid in node_names:
        return node_names[proc.pid].rstrip("-0123456789")  # mixer-2 -> mixer
    for parent in proc.parents():
        if parent.pid in node_names:
            return node_names[parent.pid].rstrip("-0123456789") + " pool"
    return "server pool"


def kernel_share(wall: float, before: dict, after: dict, cores: int | None = None) -> dict[str, Any]:
    """The issue's measure of a phase's overhead: its wall time minus the pool workers' CPU seconds divided by
    the cores (the kernel time), as a share of that kernel time; and the CPU seconds spent outside the pools
    (the server's and the nodes' own threads: parsing, hashing, signing), which compete for the same cores, so
    `floor_pct` (outside CPU over pool CPU) is the least overhead the phase can show on these cores; `cpu_s`
    splits the CPU by role. On a machine shared with other work the wall time also counts waiting for a core:
    the CPU figures are the ones that do not depend on the load."""
    cores = cores or os.cpu_count() or 1
    spent: dict[str, float] = {}
    for pid, (role, seconds) in after.items():
        spent[role] = spent.get(role, 0.0) + seconds - before.get(pid, (role, 0.0))[1]
    pool = sum(seconds for role, seconds in spent.items() if role.endswith(" pool"))
    other = sum(seconds for role, seconds in spent.items() if not role.endswith(" pool"))
    kernel = pool / cores
    return {"wall_s": round(wall, 3), "pool_cpu_s": round(pool, 3), "kernel_s": round(kernel, 3),
            "other_cpu_s": round(other, 3),
            "overhead_pct": round((wall - kernel) / kernel * 100, 1) if kernel > 0 else None,
            "floor_pct": round(other / pool * 100, 1) if pool > 0 else None,
            "cpu_s": {role: round(seconds, 3) for role, seconds in sorted(spent.items())},
            "cores": cores, "load_average": [round(x, 2) for x in os.getloadavg()]}


def wait_for_nodes(runner, roles: dict[str, int], timeout: float = 60.0) -> None:
    """Until the bridge lists `roles[r]` joined nodes of each role."""
    deadline = time.monotonic() + timeout
    while True:
        clients = runner.call("clients", {}).result(10)["clients"]
        have = {r: sum(1 for c in clients if c.get("role") == r and c.get("joined")) for r in roles}
        if all(have[r] >= n for r, n in roles.items()):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"nodes did not join within {timeout:g} s: have {have}, need {roles}")
        time.sleep(0.1)


def demo_folder() -> Path:
    """A new folder for one demo's board and record under the per-user data directory: the record is the
    demo's result (`mixscope verify` reads it), so it is kept, and the temporary directory stays clean."""
    parent = Path(platformdirs.user_data_dir("mixscope")) / "demos"
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=time.strftime("demo-%Y%m%d-%H%M%S-"), dir=parent))


class DemoCluster:
    """`--cluster` for a demo: `local:N` starts ONE LocalCluster the server and every node share (each starting
    its own would put N workers per process on this machine); a probe counts the scheduler's tasks."""

    def __init__(self, cluster: str | None, say):
        self.requested, self.say = cluster, say
        self.address, self._local, self._probe, self._before = cluster, None, None, 0
        self.fallback: str | None = None
        if not cluster:
            return
        from mixscope.engine.cluster import SchedulerProbe, start_local_cluster

        try:
            if cluster.startswith("local:"):
                say(f"cluster: starting {cluster} ...")
                self._local = start_local_cluster(int(cluster.removeprefix("local:")))
                self.address = self._local.scheduler_address
            self._probe = SchedulerProbe(self.address or cluster)
            self._before = self._probe.tasks()
        except Exception as exc:  # unreachable: the server and nodes will say so and fall back themselves
            self._probe = None
            reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            self.say(f"cluster: {self.address} unreachable ({reason})")

    def report(self, server_engine) -> dict[str, Any] | None:
        if not self.requested:
            return None
        info = server_engine.info() if server_engine is not None else {}
        report = {"address": self.address, "workers": 0, "tasks": 0}
        if self._probe is not None:
            try:
                report.update(workers=self._probe.workers(), tasks=self._probe.tasks() - self._before)
            except Exception as exc:  # the scheduler went away during the election
                report["lost"] = str(exc)[:200]
        if info.get("state") == "fallback":
            report["fallback"] = info.get("reason")
        return report

    def close(self) -> None:
        for thing in (self._probe, self._local):
            if thing is not None:
                try:
                    thing.close()
                except Exception:
                    pass


def wait_for_engine(runner, timeout: float = 30.0) -> None:
    """Until the server's cluster engine has connected or fallen back (it connects in the background)."""
    deadline = time.monotonic() + timeout
    while runner.engine is not None and runner.engine.state == "connecting" and time.monotonic() < deadline:
        time.sleep(0.05)


def run_demo(voters: int, mixers: int, trustees: int, threshold: int, candidates: list[str],
             cheat: str | None = None, data_dir: str | None = None, progress=None,
             full_verify: bool = False, cluster: str | None = None, tally: str = "mixnet") -> dict[str, Any]:
    from mixscope.server.runner import ServerRunner

    say = progress or (lambda text: None)
    summed = tally == "homomorphic"  # no cascade: no mixer nodes, the ballots are summed
    mixers = 0 if summed else mixers
    data = Path(data_dir) if data_dir else demo_folder()
    shared = DemoCluster(cluster, say)
    runner = ServerRunner(port=0, data_dir=str(data), cluster=shared.address)
    logs = runner.channel.subscribe(maxlen=1000, kinds=["cluster.fallback"])
    phases: dict[str, float] = {}

    def step(name: str, action: str, args: dict[str, Any]) -> dict[str, Any]:
        say(f"{name} ...")
        started = time.perf_counter()
        result = runner.call(action, args).result(STEP_TIMEOUT)
        phases[name] = round(time.perf_counter() - started, 3)
        return result

    runner.start()
    nodes = DemoNodes(runner.ws_url, runner.join_token, data)
    memory = PeakRss().start()
    try:
        started = time.perf_counter()
        workers = str(max(1, os.cpu_count() or 1))
        on_cluster = ["--cluster", shared.address] if shared.address else []
        for k in range(1, mixers + 1):
            nodes.spawn("mixer", f"mixer-{k}", "--workers", workers, *on_cluster,
                        *(["--cheat", cheat] if cheat and k == 1 else []))
        for i in range(1, trustees + 1):
            nodes.spawn("trustee", f"trustee-{i}", "--workers", workers, *on_cluster)  # for the cascade check
        memory.labels.update({proc.pid: name for proc, name in zip(nodes.procs, nodes.names)})
        wait_for_engine(runner)
        for event in logs.drain():
            say(event.data["text"])
        wait_for_nodes(runner, {"mixer": mixers, "trustee": trustees})
        phases["nodes"] = round(time.perf_counter() - started, 3)

        # The credential authority (here, this process: the server never sees a private credential).
        started = time.perf_counter()
        held = credentials.generate(voters)
        phases["credentials"] = round(time.perf_counter() - started, 3)
        created = step("create", "election.create", {"question": "Which candidate?", "candidates": candidates,
                                                     "threshold": threshold, "trustees": trustees,
                                                     "mixers": max(mixers, 1), "tally": tally,
                                                     "credentials": [c.voter_id for c in held]})
        eid = created["election_id"]
        step("keygen", "election.keygen", {"election_id": eid})
        choices = [secrets.randbelow(len(candidates)) for _ in range(voters)]
        say(f"voting: {voters} ballots ...")
        started = time.perf_counter()
        cast = len(simulate_voters_in_child(runner.url, eid, choices, credentials=held))
        del held  # the private credentials and the receipts: not kept in the server's process through the mix
        phases["voting"] = round(time.perf_counter() - started, 3)
        step("close", "election.close", {"election_id": eid})
        node_names = {proc.pid: name for proc, name in zip(nodes.procs, nodes.names)}
        cpu_before = process_cpu(node_names)
        mixed = step("sum" if summed else "mix", "election.mix", {"election_id": eid})
        mix_kernel = kernel_share(phases["sum" if summed else "mix"], cpu_before, process_cpu(node_names))
        decrypted = step("decrypt", "election.decrypt", {"election_id": eid})
        published = step("publish", "election.publish", {"election_id": eid, "full": full_verify})
        status = runner.call("election.status", {"election_id": eid}).result(60)
        for event in logs.drain():
            say(event.data["text"])
        cluster_report = shared.report(runner.engine)
    finally:
        peak_rss_mb = memory.stop()
        nodes.stop()
        runner.close()
        shared.close()
    expected = [choices.count(i) for i in range(len(candidates))]
    return {
        "election_id": eid,
        "ballots": cast,
        "tally_mode": tally,
        "ballots_per_s": round(cast / phases["voting"], 1) if phases["voting"] else None,
        "tally": dict(zip(candidates, decrypted["counts"])),
        "invalid": decrypted["invalid"],
        "expected": dict(zip(candidates, expected)),
        "tally_matches": decrypted["counts"] == expected and decrypted["invalid"] == 0,  # all voters vote validly
        "verified": bool(published.get("verified")),
        "verification": published.get("verification"),
        "record": published["record"],
        "record_hash": published["record_hash"],
        "stages": status["stages"],
        "mix": mixed,
        "decrypted_by": decrypted["trustees"],
        "phases": phases,
        "mix_kernel": mix_kernel,
        "total_seconds": round(sum(phases.values()), 3),
        "peak_rss_mb": peak_rss_mb,  # every process of the election: this one (the server), nodes, pools
        "data_dir": str(data),
        **({"cluster": cluster_report} if cluster_report is not None else {}),
    }


@dataclass(frozen=True)
class DemoSettings:
    """`mixscope demo`'s options (mixscope/cli.py builds them once from the command line)."""

    voters: int = 50
    mixers: int = 3
    trustees: int = 3
    threshold: int = 2
    candidates: tuple[str, ...] = ()  # empty: alice, bob, carol
    cheat: str | None = None
    data_dir: str | None = None
    full_verify: bool = False
    json: bool = False
    cluster: str | None = None
    tally: str = "mixnet"  # or homomorphic: no cascade, the ballots are summed

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "DemoSettings":
        return cls(voters=args.voters, mixers=args.mixers, trustees=args.trustees, threshold=args.threshold,
                   candidates=tuple(args.candidates or ()), cheat=args.cheat, data_dir=args.data_dir,
                   full_verify=args.full_verify, json=args.json, cluster=args.cluster,
                   tally=getattr(args, "tally", "mixnet"))


def run(settings: DemoSettings) -> int:
    if settings.voters < 2:
        raise UsageError("--voters must be at least 2 (a mix needs two ballots)")
    if settings.mixers < 1 or settings.trustees < 1 or not 1 <= settings.threshold <= settings.trustees:
        raise UsageError("need --mixers >= 1 and 1 <= --threshold <= --trustees")
    if settings.cheat and settings.mixers < 2:
        raise UsageError("--cheat spoils mixer-1's stage: give --mixers 2 or more so an honest one is left")
    candidates = list(settings.candidates) or ["alice", "bob", "carol"]
    if len(set(candidates)) != len(candidates) or len(candidates) < 2:
        raise UsageError("--candidates needs at least two distinct names")
    progress = None if settings.json else (lambda text: print(text, file=sys.stderr, flush=True))
    cluster = settings.cluster
    if cluster and progress is None:  # cluster messages (a fall back above all) go to stderr even with --json
        progress = lambda text: text.startswith("cluster") and print(text, file=sys.stderr, flush=True)  # noqa: E731
    report = run_demo(settings.voters, settings.mixers, settings.trustees, settings.threshold, candidates,
                      settings.cheat, settings.data_dir, progress, settings.full_verify, cluster, settings.tally)
    ok = report["verified"] and report["tally_matches"]
    report["backend"] = backend()
    if settings.json:
        print(json.dumps(report, indent=2))
    else:
        for stage in report["stages"]:
            print(f"stage {stage['stage']} {stage['mixer']}: {stage['status']}"
                  + (f" ({stage['reason']})" if stage["reason"] else ""))
        print("tally: " + ", ".join(f"{name} {count}" for name, count in report["tally"].items())
              + (f", invalid {report['invalid']}" if report["invalid"] else ""))
        print("phases: " + ", ".join(f"{name} {secs:.2f} s" for name, secs in report["phases"].items())
              + f" (backend: {report['backend']})")
        share = report["mix_kernel"]
        print(f"voting: {report['ballots_per_s']} ballots/s ({report['tally_mode']} ballots)")
        print(f"mix: {share['wall_s']:.2f} s for {share['kernel_s']:.2f} s of pool work per core "
              f"(overhead {share['overhead_pct']} %; {share['other_cpu_s']:.2f} CPU s outside the pools, so at least "
              f"{share['floor_pct']} % on {share['cores']} cores; load average {share['load_average'][0]})")
        if "cluster" in report:
            c = report["cluster"]
            print(f"cluster: {c['address']}, {c['workers']} workers, {c['tasks']} tasks"
                  + (f" (fell back to local processes: {c['fallback']})" if c.get("fallback") else ""))
        verdict = "verified: " + report["verification"] if report["verified"] else "DOES NOT VERIFY"
        print(f"record: {report['record']} ({verdict})")
        if report["verified"] and report["verification"] != "full":
            print(f"  every check again, as anyone can: mixscope verify {report['record']}")
        print("OK" if ok else "FAILED: the record does not verify or the tally differs from the ballots cast")
    return 0 if ok else 1
