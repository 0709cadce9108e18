"""What a node does with each server request, by role. Pure request -> reply (plus progress reports):
the connection, signing and chunking live in client/node.py.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Callable

import nacl.signing

from mixscope.client import mixer, progress
from mixscope.client.mixer import RequestError
from mixscope.client.trustee import TrusteeRole
from mixscope.engine import LocalEngine, open_engine
from mixscope.mixnet import record, submission
from mixscope.wire import protocol

# (election_id, task, phase, done, total) -> None: the node turns it into a signed `progress` message.
ProgressSink = Callable[[str, str, str, int, int], None]

_ROLE_OF = {"seat.request": None, "mix.request": "mixer", "keygen.request": "trustee", "keygen.shares": "trustee",
            "decrypt.request": "trustee", "cascade.stage": "trustee"}
_TASK_OF = {"mix.request": "mix", "decrypt.request": "decrypt", "cascade.stage": "check"}


class Roles:
    def __init__(self, name: str, role: str, signing_key: nacl.signing.SigningKey,
                 data_dir: str | os.PathLike[str] | None, cheat: str | None = None, workers: int = 1,
                 stop: threading.Event | None = None, lab_cheats: bool = False, cluster: str | None = None,
                 on_cluster: Callable[[str, dict], None] | None = None, check_stage_proofs: bool = True):
        if cheat is not None and role != "mixer":
            raise ValueError("--cheat is for mixers only")
        self.name, self.role, self.cheat, self.data_dir = name, role, cheat, data_dir
        # Obey a server's `lab_cheat` in a mix.request (the lab's per-election cheater). Off by default: a
        # server must not be able to make an ordinary node sign a spoiled stage.
        self.lab_cheats = lab_cheats
        self.public_key = signing_key.verify_key.encode().hex()
        self.trustee = TrusteeRole(name, signing_key, data_dir, check_stage_proofs) if role == "trustee" else None
        self._pool = progress.make_pool(workers)
        self.stop = stop or threading.Event()
        # --cluster: proving and decrypting run on a Dask cluster (engine/cluster.py), this pool its fallback.
        self.engine = None
        if cluster and role in ("mixer", "trustee"):
            say = on_cluster or (lambda kind, data: None)
            # Connected (or fallen back) before the node says hello: its first request already finds the cluster.
            self.engine = open_engine(cluster, LocalEngine(self._pool),
                                      publish=lambda kind, data: kind != "cluster.tasks" and say(kind, data),
                                      log=lambda level, text: say("log", {"level": level, "text": text}))

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def handle(self, message: dict[str, Any], on_progress: ProgressSink) -> dict[str, Any] | None:
        """The reply to one parsed server request (None: send nothing). Never raises: bad requests get an
        `error` reply."""
        kind = message["type"]
        try:
            return self._dispatch(kind, message, on_progress)
        except mixer.Silent:
            return None  # the `silent` cheat: no reply at all
        except RequestError as exc:
            return _error(exc.reason, exc.detail, message)
        except progress.Cancelled as exc:
            return _error("cancelled", str(exc), message)
        except Exception as exc:  # a bug must not kill the node: report it and carry on with the next request
            return _error("internal_error", f"{type(exc).__name__}: {str(exc)[:300]}", message)

    def _dispatch(self, kind: str, message: dict[str, Any], on_progress: ProgressSink) -> dict[str, Any]:
        if kind == "roll_call":  # docs/protocol.md, Roll call: answer who is here
            return {"type": "roll_call.reply", "request_id": message["request_id"], "name": self.name,
                    "role": self.role}
        if kind == "seat.request":
            return self.take_seat(message)
        wanted = _ROLE_OF.get(kind)
        if wanted is None:
            raise RequestError(f"node cannot handle {kind!r}", protocol.UNKNOWN_TYPE)
        if wanted != self.role:
            raise RequestError(f"{kind!r} is for {wanted}s; this node is a {self.role}", "wrong_role")
        map_fn = self._progress_map(_TASK_OF.get(kind, "keygen"), message, on_progress)
        if kind == "mix.request":
            return mixer.mix(message, self.cheat or self._lab_cheat(message), map_fn, generator_dir=self.data_dir)
        if self.trustee is None:  # every other request is a trustee's, and this node is one (checked above)
            raise RequestError(f"{kind!r} needs a trustee", "wrong_role")
        if kind == "keygen.request":
            return self.trustee.keygen_request(message)
        if kind == "keygen.shares":
            return self.trustee.keygen_shares(message)
        if kind == "cascade.stage":
            return self.trustee.cascade_stage(message, map_fn)
        return self.trustee.decrypt_request(message, map_fn)

    def _lab_cheat(self, message: dict[str, Any]) -> str | None:
        cheat = message.get("lab_cheat")
        if cheat is None:
            return None
        if not self.lab_cheats:
            raise RequestError("this node takes no cheat instructions (start it with --lab-cheats)", "refused")
        if cheat not in mixer.CHEATS:
            raise RequestError(f"lab_cheat must be one of {list(mixer.CHEATS)}")
        return cheat

    def take_seat(self, message: dict[str, Any]) -> dict[str, Any]:
        """Sign the election manifest's hash if it lists this node, under its key and in its role."""
        manifest = message["manifest"]
        listed = manifest.get("listed_trustees" if self.role == "trustee" else "listed_mixers")
        if self.role not in ("mixer", "trustee") or not isinstance(listed, list):
            raise RequestError(f"a {self.role} takes no seat in an election", "wrong_role")
        if not any(isinstance(e, dict) and e.get("key") == self.public_key and e.get("name") == self.name
                   for e in listed):
            raise RequestError("the manifest does not list this node under its name and key", "not_listed")
        if manifest.get("election_id") != message["election_id"]:
            raise RequestError("the manifest is for another election")
        try:
            digest = record.manifest_hash(manifest)
        except submission.SubmissionError as exc:
            raise RequestError(f"manifest cannot be signed: {exc}") from None
        if self.trustee is not None:
            self.trustee.seated(message["election_id"], digest)
        return {"type": "seat", "election_id": message["election_id"], "manifest_hash": digest}

    def _progress_map(self, task: str, message: dict[str, Any], on_progress: ProgressSink) -> progress.ProgressMap:
        election_id = message.get("election_id", "")
        return progress.ProgressMap(lambda phase, done, total: on_progress(election_id, task, phase, done, total),
                                    pool=self._pool, stop=self.stop, engine=self.engine)


def _error(reason: str, detail: str, message: dict[str, Any]) -> dict[str, Any]:
    reply = protocol.error_reply(reason, detail, ref=message["type"])
    for key in ("election_id", "stage", "request_id"):
        if key in message:
            reply[key] = message[key]
    if message["type"] == "mix.request" and isinstance(message.get("list_hash"), str):
        # names the list it refused, as a response would: a late refusal of an earlier request for this stage
        # is then not taken as the refusal of the one the server asks now
        reply["input_hash"] = message["list_hash"]
    return reply
