"""`mixscope gui --demo`: a whole election played through the panel's own actions, one captioned phase at a
time. The presenter steps on with "Next" (Ctrl+Right) or lets auto-play advance after a pause.

Each phase is (caption, action, done?): the caption says what is about to happen and why it matters, the
action triggers the same QAction a user would, and a 10 Hz poll waits for the panel to show the outcome.
A failed step stops the demo with its reason in the caption (nothing hangs).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QObject, QTimer, Signal

from mixscope.gui.election.dialogs import ElectionSpec

if TYPE_CHECKING:
    from mixscope.gui.main_window import MainWindow

DEMO_SPEC = ElectionSpec("Which mixnet should we build next?", ("Verificatum", "Bayer-Groth", "Sako-Kilian"),
                         threshold=2, trustees=3, mixers=3, cheat_mixer=1, cheat="swap")
HOMOMORPHIC_DEMO_SPEC = ElectionSpec("Which tally should the lab show next?", ("mixnet", "homomorphic", "both"),
                                     threshold=2, trustees=3, mixers=1, tally="homomorphic")
STEP_TIMEOUT = 600.0  # seconds; a 10,000-ballot mix on 2 cores takes well under this


@dataclass
class Phase:
    name: str
    caption: str
    run: Callable[[], None]
    done: Callable[[], bool]


class DemoDirector(QObject):
    finished = Signal(bool, str)  # ok, last caption

    def __init__(self, window: "MainWindow", voters: int = 40, autoplay: bool = True, delay: float = 4.0,
                 spec: ElectionSpec = DEMO_SPEC, echo: bool = True):
        super().__init__(window)
        spec = dataclasses.replace(spec, voters=max(spec.voters, voters))  # a credential for every demo voter
        self.window, self.voters, self.delay, self.spec, self.echo = window, voters, delay, spec, echo
        self.index = -1
        self.waiting = False   # the current phase is still running
        self.over = False
        self.failure = ""
        self._phase_started = 0.0
        self.phases = self._phases()
        self._poll = QTimer(self)
        self._poll.setInterval(100)
        self._poll.timeout.connect(self._check)
        self._advance = QTimer(self)
        self._advance.setSingleShot(True)
        self._advance.timeout.connect(self.next)
        a = window.actions_by_name
        self.next_action, self.autoplay_action = a["action_demo_next"], a["action_demo_autoplay"]
        self.next_action.triggered.connect(self.next)
        self.autoplay_action.setChecked(autoplay)
        self.autoplay_action.toggled.connect(self._autoplay_toggled)
        self.autoplay_action.setEnabled(True)
        window.election.step_finished.connect(self._step_finished)
        # the demo answers its own dialogs
        window.ask_election_spec = lambda previous=None: self.spec  # type: ignore[method-assign]
        window.ask_voter_count = lambda: self.voters  # type: ignore[method-assign]
        # The caption strip appears now, not at the first phase: made before the window shows, the director
        # then changes no layout (and so repaints no graphs) while it runs.
        window.election_panel.set_caption(self.phases[0].caption)

    # --- the script ----------------------------------------------------------------------------------------
    def _phases(self) -> list[Phase]:
        w, spec = self.window, self.spec
        info = lambda: w.election_tracker.info  # noqa: E731 - read at poll time, the tracker replaces it
        cheater = f"mixer {spec.cheat_mixer + 1}" if spec.cheat_mixer is not None else "nobody"
        summed = spec.tally == "homomorphic"
        phases = [
            Phase("server", "Mixscope runs a websocket server for the nodes and a web server for the voters. "
                  "Starting it…", lambda: None, lambda: w.server_up),
            Phase("create", f"A new election: “{spec.question}” — {len(spec.candidates)} candidates, "
                  f"{spec.threshold}-of-{spec.trustees} trustees, {spec.mixers} mixers, {spec.voters} voters. The "
                  "lab, as credential authority, gives each voter a signing key; the server gets only the public "
                  "list.",
                  lambda: self._trigger("action_election_new"), lambda: info().state == "created"),
            Phase("spawn", f"Spawning the nodes as real processes: {spec.trustees} trustees and {spec.mixers} "
                  f"mixers. {cheater.capitalize()} is set to cheat ({spec.cheat}).",
                  lambda: self._trigger("action_election_spawn"), w.election.nodes_joined),
            Phase("keygen", "Key ceremony: each trustee deals shares of a secret; nobody ever holds the whole "
                  "election key, any two of three can decrypt.",
                  lambda: self._trigger("action_election_keygen"), lambda: info().state == "voting"),
            Phase("voting", f"{self.voters} voters encrypt their choices, prove them well formed and sign them "
                  "with their credentials; the board accepts only ballots signed by an unused listed credential "
                  "whose proofs verify.",
                  lambda: self._trigger("action_election_voters"),
                  lambda: "voters" not in w.election.busy and info().ballots >= self.voters),
            Phase("close", "Voting closes. The ballot box is now the input of the mix cascade.",
                  lambda: self._trigger("action_election_close"), lambda: info().state == "closed"),
            Phase("mix", "The cascade: each mixer shuffles and re-encrypts every ballot, and proves it did so "
                  f"honestly. Watch {cheater}: its proof cannot hold, the server rejects its stage and goes on "
                  "from the last verified list.",
                  lambda: self._trigger("action_election_mix"), lambda: info().state in ("decrypting", "failed")),
            Phase("decrypt", "The trustees decrypt the shuffled ballots, each share with a proof. No one can link "
                  "a vote to its voter any more.",
                  lambda: self._trigger("action_election_decrypt"), lambda: info().counts is not None),
            Phase("verify", "Anyone can check the published record: every proof, every stage, every share, the "
                  "tally. Running the verifier…",
                  lambda: self._trigger("action_election_verify"),
                  lambda: info().checks is not None and info().state in ("published", "failed")),
        ]
        if summed:  # no cascade: the same steps, told as a homomorphic election
            captions = {
                "create": f"A new homomorphic election: “{spec.question}” — {len(spec.candidates)} candidates, "
                          f"{spec.threshold}-of-{spec.trustees} trustees, no mixers.",
                "spawn": f"Spawning the nodes as real processes: {spec.trustees} trustees (no cascade, so no mixers).",
                "voting": f"{self.voters} voters encrypt a 0 or 1 for every candidate and prove each is 0 or 1 and "
                          "that exactly one is 1; the board accepts only ballots whose proofs verify.",
                "close": "Voting closes. The ballots are the input of the homomorphic sum.",
                "mix": "The homomorphic sum: the server adds every candidate's ciphertexts. Anyone can redo the "
                       "addition; no ballot is ever decrypted on its own.",
                "decrypt": "The trustees decrypt only the sums, each share with a proof; each count is read from "
                           "a table of multiples of the generator.",
            }
            phases = [Phase(p.name, captions.get(p.name, p.caption), p.run, p.done) for p in phases]
        return phases

    def _trigger(self, name: str) -> None:
        action = self.window.actions_by_name[name]
        if not action.isEnabled():
            self._fail(f"{action.text().replace('&', '')} is not available now (state "
                       f"{self.window.election_tracker.info.state or 'none'})")
            return
        action.trigger()

    # --- stepping ------------------------------------------------------------------------------------------
    def start(self) -> None:
        self.next()

    def next(self) -> None:
        if self.over or self.waiting:
            return
        self._advance.stop()
        self.index += 1
        if self.index >= len(self.phases):
            self._finish()
            return
        phase = self.phases[self.index]
        self._say(f"{self.index + 1}/{len(self.phases)} · {phase.caption}")
        self.waiting, self._phase_started = True, time.monotonic()
        self.next_action.setEnabled(False)
        phase.run()
        if not self.over:
            self._poll.start()

    def _check(self) -> None:
        if self.over:
            return
        phase = self.phases[self.index]
        if phase.done():
            self._poll.stop()
            self.waiting = False
            self.next_action.setEnabled(True)
            if self.autoplay_action.isChecked():
                self._advance.start(round(self.delay * 1000))
        elif time.monotonic() - self._phase_started > STEP_TIMEOUT:
            self._fail(f"{phase.name} did not finish within {STEP_TIMEOUT:.0f} s")

    def _step_finished(self, action: str, ok: bool, message: str) -> None:
        if not ok and self.waiting and not self.over:
            self._fail(message)

    def _autoplay_toggled(self, on: bool) -> None:
        if on and not self.waiting and not self.over and self.index >= 0:
            self._advance.start(round(self.delay * 1000))
        elif not on:
            self._advance.stop()

    def _finish(self) -> None:
        info = self.window.election_tracker.info
        rejected = ", ".join(f"{s.name} ({s.reason})" for s in info.rejected) or "none"
        names = info.candidates or []
        tally = ", ".join(f"{n} {c}" for n, c in zip(names, info.counts or []))
        tally += f", invalid {info.invalid}" if info.invalid else ""
        ok = bool(info.verified)
        caption = (f"Done. Tally: {tally}. Rejected stages: {rejected}. "
                   + ("Every check of the record passes." if ok else "The record does NOT verify."))
        self._end(ok, caption)

    def _fail(self, reason: str) -> None:
        self.failure = reason
        self._end(False, f"Demo stopped: {reason}")

    def _end(self, ok: bool, caption: str) -> None:
        self.over, self.waiting = True, False
        self._poll.stop()
        self._advance.stop()
        self.next_action.setEnabled(False)
        self._say(caption)
        self.finished.emit(ok, caption)

    def _say(self, caption: str) -> None:
        """Show the caption, and print it: a presenter's terminal (or a test) gets the story too."""
        self.window.election_panel.set_caption(caption)
        if self.echo:
            print(caption, flush=True)
