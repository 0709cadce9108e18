"""The election actions: each QAction becomes one bridge call (or a node spawn, or a voter simulation).

Nothing here blocks the GUI thread: bridge calls return Futures delivered back through the GuiBridge, the
voter simulator and session files run on worker threads. After each step the controller asks for
"election.status" so the panel also shows what events alone cannot say (question, mixer count, trustees).
"""

from __future__ import annotations

import concurrent.futures
import os
import secrets
import time
from typing import Any

from PySide6.QtCore import QObject, Signal

from mixscope.gui.election import session
from mixscope.gui.election.dialogs import ElectionSpec
from mixscope.gui.election.enabling import ELECTION_ACTIONS, enabled_actions
from mixscope.gui.election.host import ElectionHost
from mixscope.gui.election.tracker import ElectionTracker
from mixscope.server.election.lab import natural_key

# action objectName -> bridge action
_STEPS = {
    "action_election_keygen": "election.keygen",
    "action_election_close": "election.close",
    "action_election_mix": "election.mix",
    "action_election_decrypt": "election.decrypt",
    "action_election_verify": "election.publish",
}
VOTER_PROGRESS_EVERY = 0.2  # seconds between progress updates sent to the GUI thread


class ElectionController(QObject):
    voters_progress = Signal(int, int)    # done, total
    step_finished = Signal(str, bool, str)  # bridge action, ok, message
    session_loaded = Signal(str)          # folder

    def __init__(self, host: ElectionHost, tracker: ElectionTracker, parent: QObject | None = None):
        super().__init__(parent)
        self.host, self.tracker = host, tracker
        self.spec: ElectionSpec | None = None
        self.busy: set[str] = set()
        self.cast: list[int] = []           # choices the simulator cast (so tests and the demo can compare)
        self.record: dict | None = None     # the record opened from a saved session (or handed in)
        self.record_path: str | None = None  # the file the server published
        self.nodes: list[str] = []          # names of the nodes spawned for the current election
        self.credentials: list = []         # the voters' private credentials (the lab is the authority)
        self.voted = 0                      # how many of them the simulator has used
        tracker.changed.connect(self.update_enabled)
        a = host.actions
        a["action_election_new"].triggered.connect(self.new_election)
        a["action_election_spawn"].triggered.connect(self.spawn_nodes)
        a["action_election_voters"].triggered.connect(lambda _=False: self.simulate_voters())
        a["action_session_export"].triggered.connect(lambda _=False: self.export_session())
        for name, action in _STEPS.items():
            a[name].triggered.connect(lambda _=False, act=action: self.step(act))

    @property
    def has_record(self) -> bool:
        return self.record is not None or self.record_path is not None

    # --- enabling ------------------------------------------------------------------------------------------
    @property
    def election_id(self) -> str:
        return self.tracker.info.election_id

    def update_enabled(self, *_: Any) -> None:
        enabled = enabled_actions(self.tracker.info.state, server_up=self.host.server_up(), busy=bool(self.busy),
                                  read_only=self.tracker.read_only, has_record=self.has_record)
        for name in ELECTION_ACTIONS:
            self.host.actions[name].setEnabled(name in enabled)

    def _begin(self, what: str) -> None:
        self.busy.add(what)
        self.update_enabled()

    def _end(self, what: str) -> None:
        self.busy.discard(what)
        self.update_enabled()

    # --- steps ---------------------------------------------------------------------------------------------
    def new_election(self) -> None:
        spec = self.host.ask_spec(self.spec)
        if spec is None:
            return
        problems = spec.problems()
        if problems:
            self.host.report("New election: " + "; ".join(problems), 8000)
            return
        self.spec, self.cast, self.record, self.record_path, self.nodes = spec, [], None, None, []
        self.credentials, self.voted = [], 0

        def make() -> list:  # the lab is the credential authority; 10,000 take about a second: off the GUI thread
            from mixscope.mixnet.credentials import generate
            return generate(spec.voters)

        def made(future: concurrent.futures.Future) -> None:
            self._end("credentials")
            if future.exception() is not None:
                self.host.report(f"New election: credentials failed: {future.exception()}", 15000)
                return
            self.credentials = future.result()
            self._call("election.create", {**spec.create_args(), "credentials": [c.voter_id for c in self.credentials]})

        self._begin("credentials")
        self.host.bridge.run_in_thread(make, made, "credential-authority")

    def step(self, action: str) -> None:
        self._call(action, {"election_id": self.election_id} if self.election_id else {})

    def _call(self, action: str, args: dict) -> None:
        self._begin(action)
        self.host.call(action, args, lambda f: self._done(action, f))

    def _done(self, action: str, future: concurrent.futures.Future) -> None:
        self._end(action)
        error = future.exception()
        if error is not None:
            message = f"{action} failed: {getattr(error, 'reason', error)}"
            self.host.report(message, 15000)
            self.step_finished.emit(action, False, message)
        else:
            result = future.result() or {}
            if action == "election.create":
                self.tracker.load_status({"election": {"id": result.get("election_id"), "state": "created",
                                                       **(self.spec.create_args() if self.spec else {})}})
            elif action == "election.publish" and result.get("record"):
                # Keep the path, not the document: parsing tens of MB here would hold the GIL (and stall the
                # panel) for nothing; export copies the file.
                self.record_path, self.record = str(result["record"]), None
            message = f"{action}: done" + (f" ({_summary(result)})" if _summary(result) else "")
            self.host.report(message, 8000)
            self.step_finished.emit(action, True, message)
        self.refresh_status()

    def refresh_status(self) -> None:
        if not self.host.server_up() or self.tracker.read_only or not self.election_id:
            return
        self.host.call("election.status", {"election_id": self.election_id}, self._status_arrived)

    def _status_arrived(self, future: concurrent.futures.Future) -> None:
        if future.exception() is None and not self.tracker.read_only:
            self.tracker.load_status(future.result())
        self.update_enabled()

    # --- nodes ---------------------------------------------------------------------------------------------
    def spawn_nodes(self) -> None:
        """The election's nodes: trustee-1..N and mixer-1..K. A node already running with the same settings is
        reused (elections come and go, the nodes stay); one started for another server, token or flags is
        restarted with this election's, and only missing ones are spawned. Mixers run with --lab-cheats: the
        cheater is an election setting (election.create's cheat, cheat_mixer), not a node's."""
        spec, runner = self.spec, self.host.runner
        if spec is None:
            self.host.report("Create an election first (its dialog says how many nodes)", 8000)
            return
        data_dir = os.path.join(runner.data_dir, "nodes") if getattr(runner, "data_dir", None) else None
        common = ("--data-dir", data_dir) if data_dir else ()
        workers = ("--workers", str(max(1, os.cpu_count() or 1)))
        mixers = 0 if spec.tally == "homomorphic" else spec.mixers  # no cascade, no mixer
        wanted = {**{f"trustee-{k}": ("trustee", common) for k in range(1, spec.trustees + 1)},
                  **{f"mixer-{k}": ("mixer", (*common, *workers, "--lab-cheats")) for k in range(1, mixers + 1)}}
        url, token = self.host.node_url() or runner.ws_url, runner.join_token
        processes = self.host.processes
        existing = {entry.name: entry for entry in processes.processes}
        new: dict[str, list[str]] = {"trustee": [], "mixer": []}
        flags: dict[str, tuple[str, ...]] = {}
        reused = replaced = 0
        for name, (role, node_flags) in wanted.items():
            entry = existing.get(name)
            if entry is None or entry.role != role:
                new[role].append(name if entry is None else f"{name}-{role}")
                flags[new[role][-1]] = node_flags
            elif (entry.url, entry.extra_args, entry.join_token) != (url, node_flags, token):
                processes.replace(entry, url, node_flags, token)
                replaced += 1
            elif entry.state not in ("starting", "running"):
                processes.restart(entry)
                replaced += 1
            else:
                reused += 1
        for role in ("trustee", "mixer"):
            if new[role]:
                processes.spawn(url, role=role, names=new[role], extra_args=flags, join_token=token)
        self.nodes = sorted(wanted, key=natural_key)
        cheat = f"; mixer-{spec.cheat_mixer + 1} cheats ({spec.cheat})" if spec.cheat_mixer is not None else ""
        spawned = len(new["trustee"]) + len(new["mixer"])
        self.host.report(f"Election nodes: {spawned} spawned, {reused} reused, {replaced} "
                         f"restarted ({spec.trustees} trustees, {mixers} mixers){cheat}", 8000)

    def nodes_joined(self) -> bool:
        """Every node spawned for this election is connected (with its hello)."""
        connected = {c.get("name") for c in self.host.clients.clients() if c.get("state") == "connected"}
        return bool(self.nodes) and set(self.nodes) <= connected

    # --- voters --------------------------------------------------------------------------------------------
    def simulate_voters(self, count: int | None = None) -> None:
        info = self.tracker.info
        count = count if count is not None else self.host.ask_voter_count()
        if not count:
            return
        left = len(self.credentials) - self.voted
        if count > left:
            self.host.report(f"Simulate voters: {left} of the election's {len(self.credentials)} voters have not "
                             "voted yet", 10000)
            return
        held = self.credentials[self.voted:self.voted + count]
        self.voted += count  # taken now: a failed run has spent them (a voter has one ballot)
        choices = [secrets.randbelow(max(1, len(info.candidates) or 2)) for _ in range(count)]
        base_url, election_id = self.host.runner.url, info.election_id
        admin = getattr(self.host.runner, "admin", None)  # a remote server's https CA (gui --connect --cafile)
        cafile = getattr(admin, "cafile", None)
        last = [0.0]

        def report(done: int, total: int) -> None:  # posting threads: hand over at most a few times a second
            now = time.monotonic()
            if done == total or now - last[0] >= VOTER_PROGRESS_EVERY:
                last[0] = now
                self.host.bridge.post(self._voter_progress, (done, total))

        def work() -> list:
            # A child process: the voters' HTTP and JSON work must not take this process's GIL, which the
            # GUI thread and the server it hosts need (measured: voting-phase lateness p99 ~94 ms in-process).
            from mixscope.client.voters import simulate_voters_in_child
            return simulate_voters_in_child(base_url, election_id, choices, progress=report, cafile=cafile,
                                            credentials=held)

        self._begin("voters")
        self.voters_progress.emit(0, count)
        self.host.bridge.run_in_thread(work, lambda f: self._voters_done(choices, f), "voter-simulator")

    def _voter_progress(self, value: tuple[int, int]) -> None:
        self.voters_progress.emit(*value)

    def _voters_done(self, choices: list[int], future: concurrent.futures.Future) -> None:
        self._end("voters")
        self.voters_progress.emit(len(choices), len(choices))  # done either way: the bar goes away
        error = future.exception()
        if error is None:
            self.cast.extend(choices)
            message = f"{len(choices)} simulated voters cast their ballots"
        else:
            message = f"voter simulation failed: {error}"
        self.host.report(message, 10000)
        self.step_finished.emit("voters", error is None, message)
        self.refresh_status()

    # --- sessions ------------------------------------------------------------------------------------------
    def export_session(self, folder: str | None = None) -> None:
        folder = folder or self.host.ask_folder("Export session to folder", True)
        if not folder:
            return
        rows, record = self.host.traffic.all_rows(), self.record if self.record is not None else self.record_path

        def work() -> str:
            return session.export_session(folder, rows, record)

        self._begin("export")
        self.host.bridge.run_in_thread(work, self._exported, "export-session")

    def _exported(self, future: concurrent.futures.Future) -> None:
        self._end("export")
        error = future.exception()
        message = f"Session exported to {future.result()}" if error is None else f"Export failed: {error}"
        self.host.report(message, 10000)
        self.step_finished.emit("export", error is None, message)

    def open_session(self, folder: str) -> None:
        """Show a saved session read-only: its traffic in the traffic view, its record in the panel; the
        verification report is computed from the record by mixnet.verifier on a worker thread."""
        self._begin("open")
        self.host.bridge.run_in_thread(lambda: session.load_session(folder),
                                       lambda f: self._opened(folder, f), "open-session")

    def _opened(self, folder: str, future: concurrent.futures.Future) -> None:
        self._end("open")
        error = future.exception()
        if error is not None:
            self.host.report(f"Cannot open {folder}: {error}", 15000)
            self.step_finished.emit("open", False, str(error))
            return
        loaded: session.Session = future.result()
        self.host.traffic.load_rows(loaded.rows)
        record_path = loaded.record_path
        if loaded.record is not None and record_path is not None:  # a record is read from its path
            self.record = loaded.record
            self.tracker.load_record(loaded.record)
            self._begin("verify record")
            self.host.bridge.run_in_thread(lambda: session.verify(record_path), self._verified,
                                           "verify-record")
        else:
            self.tracker.read_only = True
        self.update_enabled()
        self.host.report(f"Opened {folder}: {len(loaded.rows)} messages"
                         + (", record" if loaded.record is not None else ", no record"), 10000)
        self.session_loaded.emit(folder)

    def _verified(self, future: concurrent.futures.Future) -> None:
        self._end("verify record")
        if future.exception() is not None:
            self.host.report(f"Verification failed to run: {future.exception()}", 15000)
            return
        self.tracker.set_checks(future.result())


def _summary(result: dict) -> str:
    keys = ("election_id", "ballots", "accepted", "stages", "counts", "invalid", "verified", "checks")
    return ", ".join(f"{k} {result[k]}" for k in keys if k in result)
