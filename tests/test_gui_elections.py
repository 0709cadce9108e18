"""Several elections in one panel window: the nodes are reused (no new processes, no growing memory), each
election's cheater cheats in that election alone, and the cascade takes mixers in numeric order."""

from __future__ import annotations

import psutil
import pytest
from PySide6.QtCore import QSettings

from mixscope.gui.election.dialogs import ElectionSpec
from mixscope.gui.main_window import MainWindow
from tests.gui_election_driver import WAIT_MS, run_election

ELECTIONS = [  # (spec, the stages the panel must show)
    (ElectionSpec("First?", ("a", "b"), threshold=2, trustees=3, mixers=3, cheat_mixer=1, cheat="swap"),
     [("mixer-1", "verified"), ("mixer-2", "rejected"), ("mixer-3", "verified")]),
    (ElectionSpec("Second?", ("a", "b"), threshold=2, trustees=3, mixers=2),
     [("mixer-1", "verified"), ("mixer-2", "verified")]),
    (ElectionSpec("Third?", ("a", "b", "c"), threshold=2, trustees=3, mixers=3, cheat_mixer=2, cheat="drop"),
     [("mixer-1", "verified"), ("mixer-2", "verified"), ("mixer-3", "rejected")]),
    # an output left as its input: the stage's proof may verify, the stage is still refused (not_rerandomised)
    (ElectionSpec("Fourth?", ("a", "b"), threshold=2, trustees=3, mixers=3, cheat_mixer=0, cheat="identity"),
     [("mixer-1", "rejected"), ("mixer-2", "verified"), ("mixer-3", "verified")]),
]


def node_footprint(win: MainWindow) -> tuple[dict[str, int], int]:
    """{node name: pid} of the panel's node processes and their memory (RSS, children included) in bytes."""
    pids, rss = {}, 0
    for entry in win.processes.processes:
        process = psutil.Process(entry.process.processId())
        pids[entry.name] = process.pid
        rss += sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])
    return pids, rss


@pytest.mark.slow
def test_four_elections_in_one_window_reuse_the_nodes(qtbot, server, tmp_path):
    win = MainWindow(server, QSettings(str(tmp_path / "panel.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.server_up, timeout=WAIT_MS)
    me = psutil.Process()
    footprints, children, shown = [], [], []
    try:
        for spec, stages in ELECTIONS:
            result = run_election(win, qtbot, spec, voters=5)
            shown.append(result)
            assert result.stages == stages, (spec.question, result.stages)
            assert result.counts == [result.cast.count(k) for k in range(len(spec.candidates))]
            assert all(state == "pass" for _, state in result.checks)
            footprints.append(node_footprint(win))
            children.append(len([p for p in me.children(recursive=True) if p.is_running()]))
        assert len({r.election_id for r in shown}) == len(ELECTIONS)
        first_pids, first_rss = footprints[0]
        assert sorted(first_pids) == ["mixer-1", "mixer-2", "mixer-3", "trustee-1", "trustee-2", "trustee-3"]
        for pids, rss in footprints[1:]:
            assert pids == first_pids  # the same six processes, not six more per election
            assert rss < 1.5 * first_rss, (rss, first_rss)
        assert children[2] <= children[0], children
    finally:
        win.close()
