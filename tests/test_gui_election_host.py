"""The election controller needs no window: an ElectionHost of real parts (a real server, bridge, process
manager and models) drives it, and what it reports comes back through the host."""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow

from mixscope.gui.actions import install_actions
from mixscope.gui.bridge import GuiBridge
from mixscope.gui.election.controller import ElectionController
from mixscope.gui.election.dialogs import ElectionSpec
from mixscope.gui.election.host import ElectionHost
from mixscope.gui.election.tracker import ElectionTracker
from mixscope.gui.models.clients import ClientsModel
from mixscope.gui.models.traffic import TrafficModel
from mixscope.gui.process_manager import ProcessManager
from mixscope.server.election import states

WAIT_MS = 20_000
SPEC = ElectionSpec("Lunch?", ("soup", "salad"), threshold=1, trustees=1, mixers=1)


def _host(qtbot, runner, answers: dict, reports: list) -> tuple[ElectionHost, QMainWindow]:
    owner = QMainWindow()  # only the QActions' owner; the controller never sees it
    qtbot.addWidget(owner)
    clients = ClientsModel(owner)
    host = ElectionHost(
        actions=install_actions(owner), runner=runner, bridge=GuiBridge(owner), processes=ProcessManager(owner),
        clients=clients, traffic=TrafficModel(100, client_name=clients.name_of, parent=owner),
        report=lambda message, ms: reports.append(message), server_up=lambda: runner.running,
        node_url=lambda: runner.ws_url, ask_spec=lambda previous: answers.get("spec"),
        ask_voter_count=lambda: answers.get("voters"), ask_folder=lambda title, save: answers.get("folder"))
    return host, owner  # the caller keeps the owner alive: its actions are the host's


def test_the_controller_creates_an_election_through_its_host_alone(qtbot, server):
    reports: list[str] = []
    host, _owner = _host(qtbot, server, {"spec": SPEC}, reports)
    tracker = ElectionTracker()
    controller = ElectionController(host, tracker)
    controller.update_enabled()
    assert host.actions["action_election_new"].isEnabled()
    assert not host.actions["action_election_close"].isEnabled()

    with qtbot.waitSignal(controller.step_finished, timeout=WAIT_MS) as done:
        host.actions["action_election_new"].trigger()
    action, ok, message = done.args
    assert (action, ok) == ("election.create", True) and reports[-1] == message
    qtbot.waitUntil(lambda: tracker.info.question == "Lunch?", timeout=WAIT_MS)  # the status reply arrived
    assert tracker.info.state == states.CREATED and tracker.info.candidates == ["soup", "salad"]
    assert host.actions["action_election_keygen"].isEnabled()


def test_the_controller_reports_refusals_through_its_host(qtbot, server):
    reports: list[str] = []
    bad = ElectionSpec("", ("soup",), threshold=1, trustees=1, mixers=1)
    host, _owner = _host(qtbot, server, {"spec": bad}, reports)
    controller = ElectionController(host, ElectionTracker())
    controller.new_election()
    assert reports == ["New election: the question is empty; give at least two candidates"]
    controller.spawn_nodes()  # no election yet: nothing is spawned, the host hears why
    assert reports[-1].startswith("Create an election first") and host.processes.processes == []
