"""The election coordinator: runs each election's lifecycle on the server loop, one step per bridge action.

create → key ceremony (trustee nodes) → voting (ballots arrive through Flask) → close → mix cascade (mixer
nodes, every stage verified before it is stored and forwarded; the next mixer starts on its outputs meanwhile)
→ proven decryption (trustee nodes) → tally →
publish the record and verify it. Every step is persisted in the bulletin board before it is announced,
so a restarted server picks up where it stopped: the cascade resumes from the last accepted stage.

The node exchanges live in their own modules (ceremony.py, cascade.py, decryption.py), each given a
StepContext (link.py); this class owns the states, the bridge steps and the helpers they share. It reaches
the nodes only through a NodeLink (the hub, wired by the runner). Board writes fsync, so they run on the
executors' one board thread; proof checks run on helper threads that fan their kernels out over the
runner's process pool (server/executors.py). The loop thread only routes messages and awaits.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

from mixscope.mixnet import credentials
from mixscope.mixnet import trustees as dkg
from mixscope.mixnet.record import check_candidates
from mixscope.server import board as board_mod
from mixscope.server.board import Board
from mixscope.server.election import cascade, ceremony, decryption, homomorphic, lab, publishing, records, states, work
from mixscope.server.election.common import MAX_REASON, ElectionError, ElectionNotFound, NodeRef  # noqa: F401  (re-exported)
from mixscope.server.election.inbox import Inbox, NodeGone, NodeRefused
from mixscope.server.election.link import NodeLink, StepContext
from mixscope.server.executors import Executors


class Coordinator:
    def __init__(self, link: NodeLink, board: Board, executors: Executors, data_dir: Path):
        self.link, self.board, self.executors, self.data_dir = link, board, executors, data_dir
        self.steps = StepContext(link, Inbox(), board, executors, data_dir)  # what the node exchanges use
        self.inbox, self.mixing_stage = self.steps.inbox, self.steps.mixing_stage
        self._busy: set[str] = set()
        self.phases: dict[str, dict[str, float]] = {}
        self.verification: dict[str, dict[str, Any]] = {}

    @property
    def closing(self) -> bool:
        return self.steps.closing

    def close(self) -> None:
        # Called on the loop while stopping, before the runner stops the election's threads: a step cut short
        # records nothing more (a node dropped by the shutdown is no evidence against it) and resumes later.
        self.steps.closing = True

    # --- helpers ------------------------------------------------------------------------------------------

    async def on_io(self, fn: Callable, *args, **kwargs):
        return await self.executors.on_io(fn, *args, **kwargs)

    async def on_worker(self, fn: Callable, *args, **kwargs):
        return await self.executors.on_worker(fn, *args, **kwargs)

    def map_fn(self):
        return self.executors.map_fn()

    def emit(self, kind: str, data: dict[str, Any]) -> None:
        self.link.emit(kind, data)

    async def _set_state(self, election_id: str, state: str, reason: str | None = None) -> board_mod.Election:
        election = await self.on_io(self.board.set_state, election_id, state, reason)
        self.emit("election.state", {"election_id": election_id, "state": state, "reason": reason})
        return election

    async def fail(self, election_id: str, reason: str) -> ElectionError:
        reason = reason[:MAX_REASON]
        try:
            await self._set_state(election_id, board_mod.FAILED, reason)
        except board_mod.BoardError:
            pass
        self.link.log("error", f"election {election_id} failed: {reason}")
        return ElectionError(reason)

    async def find(self, args: dict[str, Any]) -> board_mod.Election:
        election_id = args.get("election_id")
        if election_id is None:
            elections = await self.on_io(self.board.list_elections)
            if not elections:
                raise ElectionNotFound("no election yet: create one first")
            return elections[-1]
        if not isinstance(election_id, str):
            raise ElectionError("election_id must be a string")
        try:
            return await self.on_io(self.board.get_election, election_id)
        except board_mod.NotFoundError as exc:
            raise ElectionNotFound(str(exc)) from None
        except board_mod.BoardError as exc:
            raise ElectionError(str(exc)) from None

    async def run_exclusive(self, args: dict[str, Any], step: Callable, **options) -> dict[str, Any]:
        """Run one step of one election; a second step of the same election meanwhile is refused."""
        election = await self.find(args)
        if election.id in self._busy:
            raise ElectionError(f"election {election.id} is busy with another step")
        self._busy.add(election.id)
        started = time.perf_counter()
        try:
            result = await step(election, **options)
        finally:
            self._busy.discard(election.id)
        self.phases.setdefault(election.id, {})[step.__name__] = round(time.perf_counter() - started, 3)
        return {"election_id": election.id, **result}

    def send(self, node: NodeRef, message: dict[str, Any]) -> bool:
        return self.steps.send(node, message)

    # --- start-up -----------------------------------------------------------------------------------------

    async def load(self) -> None:
        """At start: say which elections a restart left unfinished and what resumes them. Nothing runs by
        itself: the nodes must reconnect first, then the same bridge action picks up from the board."""
        try:
            elections = await self.on_io(self.board.list_elections)
        except (board_mod.BoardError, RuntimeError) as exc:
            self.link.log("error", f"cannot read the elections on the board: {exc}")
            return
        resume = {state: f"election.{step}" for state, step in states.RESUMED_BY.items()}
        for election in elections:
            if election.state in resume:
                done = await self.on_io(self.board.next_mix_index, election.id)
                self.link.log("info", f"election {election.id} was {election.state} ({done} accepted mix stages): "
                             f"{resume[election.state]} resumes it")
            self.emit("election.state", {"election_id": election.id, "state": election.state,
                                             "reason": election.reason})

    # --- create -------------------------------------------------------------------------------------------

    async def create(self, args: dict[str, Any]) -> dict[str, Any]:
        question = args.get("question", "Which candidate?")
        candidates = args.get("candidates", ["yes", "no"])
        numbers = {k: args.get(k, d) for k, d in (("threshold", 1), ("trustees", 1), ("mixers", 1))}
        if any(isinstance(v, bool) or not isinstance(v, int) for v in numbers.values()):
            raise ElectionError("threshold, trustees and mixers must be integers")
        if isinstance(candidates, list):  # the board refuses what is no list of strings
            try:
                check_candidates(candidates)  # duplicate or empty names would make the tally ambiguous
            except ValueError as exc:
                raise ElectionError(str(exc)) from None
        settings = lab.from_args(args, numbers["mixers"]) if numbers["mixers"] >= 1 else lab.LabSettings()
        if "credentials" not in args:
            raise ElectionError("election.create needs 'credentials': the voters' public credentials "
                                "(mixscope election credentials makes them)")
        try:  # off the loop: checking 10,000 keys takes a noticeable fraction of a second
            listed = await self.on_io(credentials.check_list, args["credentials"])
        except ValueError as exc:
            raise ElectionError(str(exc)) from None
        election_id = _new_election_id()
        try:
            election = await self.on_io(self.board.create_election, election_id, question, candidates,
                                         numbers["threshold"], numbers["trustees"], numbers["mixers"], listed)
        except board_mod.BoardError as exc:
            raise ElectionError(str(exc)) from None
        await self.on_io(lab.save, self.data_dir, election_id, settings)
        self.emit("election.state", {"election_id": election_id, "state": election.state, "reason": None})
        return {"election_id": election_id, "credentials": len(listed)}

    # --- key ceremony -------------------------------------------------------------------------------------

    async def keygen(self, election: board_mod.Election) -> dict[str, Any]:
        if not states.may_run(states.KEYGEN, election.state):
            raise ElectionError(f"election {election.id} is {election.state}; the key ceremony is over")
        nodes = sorted(self.link.election_nodes("trustee"), key=lambda n: lab.natural_key(n.name))
        if len(nodes) < election.trustees:
            raise ElectionError(f"the ceremony needs {election.trustees} connected trustees, {len(nodes)} connected")
        chosen = nodes[:election.trustees]
        mixers = sorted(
            self.link.election_nodes("mixer"), key=lambda n: lab.natural_key(n.name)
        )  # the manifest lists them
        if homomorphic.is_homomorphic(self, election.id):
            mixers = []  # no cascade
        elif len(mixers) < election.mixers:
            self.link.log("warning", f"election {election.id}: the manifest lists the {len(mixers)} mixers connected "
                         f"now; only listed mixers may mix ({election.mixers} wanted)")
        await self._set_state(election.id, states.KEY_CEREMONY)
        try:
            manifest = await ceremony.seat(self.steps, election, chosen, mixers)
            public_key = await ceremony.exchange(self.steps, election, chosen, manifest["nonce"])
        except (ElectionError, asyncio.TimeoutError, NodeGone, NodeRefused, KeyError, TypeError, ValueError) as exc:
            if self.closing:
                raise ElectionError("server stopping: run the key ceremony again after the restart") from None
            reason = exc.reason if isinstance(exc, ElectionError) else f"key ceremony: {_describe(exc)}"
            raise await self.fail(election.id, reason) from None
        await self.on_io(self.board.set_public_key, election.id, public_key)
        await self._set_state(election.id, states.VOTING)
        return {"public_key": public_key, "trustees": [n.name for n in chosen]}

    # --- voting -------------------------------------------------------------------------------------------

    async def close_voting(self, election: board_mod.Election) -> dict[str, Any]:
        if not states.may_run(states.CLOSE, election.state):
            raise ElectionError(f"election {election.id} is {election.state}, not voting")
        await self._set_state(election.id, states.CLOSED)
        return {"ballots": await self.on_io(self.board.count_ballots, election.id)}

    # --- the mix cascade ----------------------------------------------------------------------------------

    async def mix(self, election: board_mod.Election) -> dict[str, Any]:
        eid = election.id
        if election.state == states.CLOSED:
            await self._set_state(eid, states.MIXING)
        elif not states.may_run(states.MIX, election.state):
            raise ElectionError(f"election {eid} is {election.state}; only a closed election can be mixed")
        if homomorphic.is_homomorphic(self, eid):  # no cascade: the ballots are summed
            return await homomorphic.sum_step(self, election)
        stages = await self.on_io(self.board.mix_stage_summaries, eid)  # not their lists: only the last one is read
        current = await self.on_io(self.board.last_accepted_output, eid)
        if current is None:
            current = await self.on_io(records.ballot_ciphertexts, self.board, eid)
        if len(current) < 2:
            raise await self.fail(eid, f"{len(current)} ballot(s): a mix needs at least two")
        accepted = sum(s["status"] == "accepted" for s in stages)
        used = {s["mixer"] for s in stages}
        manifest = await self.on_io(records.manifest, self.board, eid)
        listed = None if manifest is None else {m["key"] for m in manifest["listed_mixers"]}
        queue = [n for n in sorted(self.link.election_nodes("mixer"), key=lambda n: lab.natural_key(n.name))
                 if n.name not in used and (listed is None or n.public_key in listed)]  # only listed mixers count
        if accepted == 0 and not queue:
            raise ElectionError(f"no mixer connected that has not mixed election {eid} yet; connect one and retry")
        position, nonce = len(stages), b"" if manifest is None else bytes.fromhex(manifest["nonce"])
        # Optimistic pipelining: the next mixer starts on a stage's outputs as soon as they arrive, while the
        # stage is judged; it is judged and stored only after that stage is accepted. If that stage is rejected,
        # its successor mixed a list no one accepted: that answer is dropped (nothing stored) and the same
        # mixer mixes again, at the same position, from the last accepted list.
        inputs, inputs_hash, pending = current, None, None  # pending: the judging of the stage `inputs` came from
        stale: str | None = None  # the list_hash of the dropped request of the mixer asked again
        # the pipelined stages, the seconds their judging and storing took while the next mixer worked, and the
        # seconds the cascade still waited for them once the next answer was in (the rest left the chain)
        overlap = {"stages": 0, "judged_s": 0.0, "waited_s": 0.0}
        try:
            while queue and accepted + (pending is not None) < election.mixers:
                node = queue.pop(0)
                answer = await cascade.ask(self.steps, election, node, position, inputs, nonce, inputs_hash, stale)
                stale = None
                if pending is not None:
                    waiting = time.perf_counter()
                    outcome, pending = await pending, None
                    overlap["waited_s"] += time.perf_counter() - waiting
                    if outcome is None:
                        self.link.log("info", f"election {eid} stage {position}: {node.name}'s answer dropped (its "
                                      "inputs came from a rejected stage); mixing again from the last accepted list")
                        self.mixing_stage.pop(node.client_id, None)
                        queue.insert(0, node)
                        inputs, inputs_hash, stale = current, None, answer.inputs_hash
                        continue
                    current, accepted = outcome, accepted + 1
                position += 1
                proposed = None
                if queue and accepted + 1 < election.mixers:
                    proposed = await self.on_worker(cascade.proposed_outputs, answer)
                if proposed is not None:
                    overlap["stages"] += 1
                    inputs, inputs_hash = proposed
                    pending = asyncio.ensure_future(_timed(cascade.settle(self.steps, election, answer, accepted),
                                                           overlap))
                    continue
                outcome = await cascade.settle(self.steps, election, answer, accepted)
                if outcome is not None:
                    current, accepted = outcome, accepted + 1
                inputs, inputs_hash = current, None
            if pending is not None:  # no mixer left to start on its outputs
                waiting = time.perf_counter()
                outcome = await pending
                overlap["waited_s"] += time.perf_counter() - waiting
                if outcome is not None:
                    current, accepted = outcome, accepted + 1
        except BaseException:  # a stage still being judged is abandoned with the step
            if pending is not None:
                pending.cancel()
            raise
        if accepted == 0:
            raise await self.fail(eid, "no honest mixer left: every mix stage was rejected or none could run")
        await self._set_state(eid, states.DECRYPTING)
        return {"accepted": accepted, "stages": position, "count": len(current),
                "pipelined": {k: round(v, 3) for k, v in overlap.items()}}

    # --- proven decryption and tally ----------------------------------------------------------------------

    async def decrypt(self, election: board_mod.Election) -> dict[str, Any]:
        eid = election.id
        if not states.may_run(states.DECRYPT, election.state):
            raise ElectionError(f"election {eid} is {election.state}; decryption follows a finished mix")
        summed = homomorphic.is_homomorphic(self, eid)
        final = await self.on_io(homomorphic.sums if summed else self.board.last_accepted_output, *(
            (self.board, eid) if summed else (eid,)))
        dealt = await self.on_io(records.dealings, self.board, eid)
        index_of = {name: body["index"] for name, body in dealt.items()}
        parsed = [dkg.Dealing.from_json(body) for body in dealt.values()]
        verified: dict[str, Any] = dict(await self.on_io(self.board.decryption_shares, eid))
        if len(verified) < election.threshold:
            await decryption.collect_partials(self.steps, election, final, index_of, parsed, verified,
                                              homomorphic.evidence if summed else None)
        partials = [
            {"trustee": m["index"], "factors": m["partials"]} for m in list(verified.values())[: election.threshold]
        ]
        started = time.perf_counter()
        if summed:
            result = await self.on_worker(homomorphic.combine_counts, final, partials, election.threshold,
                                          await self.on_io(self.board.count_ballots, eid))
        else:
            result = await self.on_worker(work.combine_and_count, final, partials, election.threshold,
                                          len(election.candidates), self.map_fn())
        self.link.log("info", f"election {eid}: combined and counted in {time.perf_counter() - started:.2f} s")
        result["candidates"] = list(election.candidates)
        await self.on_io(self.board.set_result, eid, result)
        self.emit("election.state", {"election_id": eid, "state": states.TALLIED, "reason": None})
        self.emit("election.result", {"election_id": eid, "counts": result["counts"], "invalid": result["invalid"],
                                          "candidates": result["candidates"]})
        return {"counts": result["counts"], "invalid": result["invalid"], "candidates": result["candidates"],
                "trustees": list(verified)}

    # --- publish ------------------------------------------------------------------------------------------

    async def publish(self, election: board_mod.Election, full: bool = True) -> dict[str, Any]:
        """full=False: the proofs this server checked on arrival are not re-verified (server/election/publishing.py)."""
        eid = election.id
        if not states.may_run(states.PUBLISH, election.state):
            raise ElectionError(f"election {eid} is {election.state}; only a tallied election can be published")
        started = time.perf_counter()
        verdict = await publishing.publish(self.executors, self.board.path, eid, self.data_dir / f"record-{eid}.json",
                                           full)
        self.link.log("info", f"election {eid}: record built, verified and stored in "
                     f"{time.perf_counter() - started:.2f} s")
        record_hash, path = verdict.pop("record_hash", None), verdict.pop("record", None)
        self.verification[eid] = verdict
        self.emit("election.verified", {"election_id": eid, **verdict})
        if not verdict["ok"]:
            failed = "; ".join(f"{c['name']}: {c['reason']}" for c in verdict["checks"] if not c["ok"])
            raise await self.fail(eid, f"the record does not verify: {failed}")
        self.emit("election.state", {"election_id": eid, "state": states.PUBLISHED, "reason": None})
        return {"record_hash": record_hash, "record": path, "verified": True, "checks": len(verdict["checks"]),
                "verification": verdict["verification"]}

    # --- status -------------------------------------------------------------------------------------------

    async def status(self, election: board_mod.Election) -> dict[str, Any]:
        return await self.on_io(self._status, election.id)

    def _status(self, eid: str) -> dict[str, Any]:
        election = self.board.get_election(eid)
        # Polled by the panel: summaries only, never the stages' outputs and proofs (parsing them held the GIL
        # the panel shares for tens of ms each).
        stages = [{"stage": k, **summary} for k, summary in enumerate(self.board.mix_stage_summaries(eid))]
        verdict = self.verification.get(eid)
        return {
            "election_id": eid,
            "election": election.to_json(),
            "ballots": self.board.count_ballots(eid),
            "trustees": list(records.dealings(self.board, eid)),
            "stages": stages,
            "decrypted_by": self.board.decryption_share_trustees(eid),
            "result": self.board.result(eid),
            "verified": None if verdict is None else verdict["ok"],
            "phases": dict(self.phases.get(eid, {})),
            "busy": eid in self._busy,
            "lab": lab.load(self.data_dir, eid).summary(),
        }

    # --- from the hub -------------------------------------------------------------------------------------

    def node_message(self, node: NodeRef, message: dict[str, Any]) -> None:
        """A verified, logged election message from `node`."""
        if message["type"] == "cascade.checked":
            self.link.log("info", f"election {message['election_id']}: {node.name} checked the cascade up to stage "
                          f"{message['stage']}", node.client_id)
        elif message["type"] == "progress":
            stage = message.get("stage", self.mixing_stage.get(node.client_id))  # nodes need not say it
            self.progress(message["task"], message["election_id"], node.name, message["phase"],
                          message["done"], message["total"], stage)
        elif not self.inbox.deliver(node.client_id, message):
            self.link.log("warning", f"{node.name} sent an unexpected {message['type']}", node.client_id)

    def node_error(self, node: NodeRef, error: dict[str, Any]) -> None:
        """A joined node answered a request with an error: fail the step waiting for it now, not at its timeout."""
        if error.get("ref") == "cascade.stage":  # it checks the whole cascade when asked to decrypt instead
            self.steps.forwarded.get(error.get("election_id", ""), {}).pop(node.client_id, None)
            self.link.log("warning", f"{node.name} did not check a forwarded stage: {str(error.get('detail'))[:200]}",
                          node.client_id)
            return
        if self.inbox.refused(node.client_id, error):
            self.link.log("warning", f"{node.name} refused {error.get('ref')}: {str(error['reason'])[:200]}",
                         node.client_id)

    def node_gone(self, client_id: str) -> None:
        self.inbox.gone(client_id)

    def progress(self, task, election_id, node, phase, done, total, stage=None) -> None:
        self.steps.progress(task, election_id, node, phase, done, total, stage)


async def _timed(step: Awaitable[Any], into: dict[str, float]) -> Any:
    """`step`'s result; its seconds are added to into["judged_s"]."""
    started = time.perf_counter()
    try:
        return await step
    finally:
        into["judged_s"] += time.perf_counter() - started


def _new_election_id() -> str:
    while True:
        candidate = secrets.token_urlsafe(6)
        if candidate[0].isalnum():  # the board's ids start with a letter or digit
            return candidate




def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "a trustee did not answer in time"
    return str(exc) or type(exc).__name__

