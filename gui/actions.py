"""Every user action of the panel: a stable objectName, a label, a shortcut, and where it is shown.

Tests and scripts find actions by objectName (`window.findChild(QAction, "action_mix")`), so names here are
an interface: add new ones, don't rename.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar


@dataclass(frozen=True)
class ActionSpec:
    name: str
    text: str
    shortcut: str  # portable text; platform StandardKeys are empty on some platforms (offscreen)
    menu: str
    tip: str
    toolbar: bool = True
    checkable: bool = False


ACTIONS = (
    ActionSpec("action_server_start", "&Start server", "F5", "&Server", "Start the websocket server"),
    ActionSpec("action_server_stop", "S&top server", "Shift+F5", "&Server", "Stop the server (nodes keep retrying)"),
    ActionSpec("action_server_restart", "&Restart server", "Ctrl+F5", "&Server", "Stop and start on the same port",
               toolbar=False),
    ActionSpec("action_copy_url", "Copy server &URL", "Ctrl+Shift+U", "&Server", "Copy the websocket URL",
               toolbar=False),
    ActionSpec("action_copy_admin_token", "Copy &admin token", "Ctrl+Shift+T", "&Server",
               "Copy the admin token (Bearer) to the clipboard", toolbar=False),
    ActionSpec("action_quit", "&Quit", "Ctrl+Q", "&Server",
               "Stop the server and every node, then quit", toolbar=False),
    ActionSpec("action_mix", "&Roll call", "Ctrl+M", "&Nodes",
               "Ask every connected mixer to answer (bridge call)"),
    ActionSpec("action_send_to_client", "&Send to client…", "Ctrl+E", "&Nodes",
               "Send a JSON message to the selected client"),
    ActionSpec("action_broadcast", "&Broadcast…", "Ctrl+B", "&Nodes", "Send a JSON message to every client"),
    ActionSpec("action_disconnect_client", "&Disconnect client", "Ctrl+D", "&Nodes",
               "Close the selected client's websocket"),
    ActionSpec("action_spawn_nodes", "Spa&wn nodes…", "Ctrl+N", "&Processes",
               "Start node processes against this server"),
    ActionSpec("action_kill_process", "&Kill process", "Ctrl+K", "&Processes", "Kill the selected node process"),
    ActionSpec("action_restart_process", "&Restart process", "Ctrl+Shift+R", "&Processes",
               "Kill and start the selected node process again"),
    ActionSpec("action_pause_traffic", "&Pause traffic", "Ctrl+P", "&Traffic",
               "Hold new traffic rows until resumed", checkable=True),
    ActionSpec("action_clear_traffic", "&Clear traffic", "Ctrl+L", "&Traffic", "Remove every traffic row"),
    ActionSpec("action_filter_traffic", "&Filter traffic", "Ctrl+F", "&Traffic",
               "Focus the traffic filter box", toolbar=False),
    ActionSpec("action_follow_client", "Follow c&lient", "Ctrl+Shift+L", "&Traffic",
               "Show only the selected client's traffic", toolbar=False),
    # The election lab (gui/election): buttons in the election panel rather than the main toolbar.
    ActionSpec("action_election_new", "&New election…", "Ctrl+Shift+N", "&Election",
               "Create an election: question, candidates, t-of-n trustees, mixers, a cheater", toolbar=False),
    ActionSpec("action_election_spawn", "Spawn election &nodes", "Ctrl+Shift+W", "&Election",
               "Start the election's trustee and mixer nodes", toolbar=False),
    ActionSpec("action_election_keygen", "&Key ceremony", "Ctrl+Shift+K", "&Election",
               "Run the trustees' key ceremony, then open voting", toolbar=False),
    ActionSpec("action_election_voters", "Simulate &voters…", "Ctrl+Shift+V", "&Election",
               "Cast N real encrypted ballots through the JSON API", toolbar=False),
    ActionSpec("action_election_close", "&Close voting", "Ctrl+Shift+C", "&Election", "Stop accepting ballots",
               toolbar=False),
    ActionSpec("action_election_mix", "&Mix cascade", "Ctrl+Shift+M", "&Election",
               "Send the ballots through every mixer, verifying each stage's proof", toolbar=False),
    ActionSpec("action_election_decrypt", "&Decrypt && tally", "Ctrl+Shift+D", "&Election",
               "Proven decryption by the trustees, then the tally", toolbar=False),
    ActionSpec("action_election_verify", "&Verify", "Ctrl+Shift+Y", "&Election",
               "Build the election record and run every verifier check on it", toolbar=False),
    ActionSpec("action_session_export", "&Export session…", "Ctrl+Shift+E", "&Election",
               "Save the traffic log and the election record to a folder", toolbar=False),
    ActionSpec("action_session_open", "&Open session…", "Ctrl+O", "&Election",
               "Replay a saved session's traffic and show its record read-only", toolbar=False),
    ActionSpec("action_demo_next", "&Next demo step", "Ctrl+Right", "&Demo", "Go on to the demo's next phase",
               toolbar=False),
    ActionSpec("action_demo_autoplay", "&Auto-play", "Ctrl+Shift+P", "&Demo",
               "Advance through the demo by itself after a pause at each phase", toolbar=False, checkable=True),
    ActionSpec("action_theme_system", "Follow &system theme", "Ctrl+Alt+0", "&View", "Light or dark like the desktop",
               toolbar=False, checkable=True),
    ActionSpec("action_theme_light", "&Light theme", "Ctrl+Alt+1", "&View", "Light colours", toolbar=False,
               checkable=True),
    ActionSpec("action_theme_dark", "&Dark theme", "Ctrl+Alt+2", "&View", "Dark colours", toolbar=False,
               checkable=True),
    ActionSpec("action_presentation_mode", "&Presentation mode", "F11", "&View",
               "Full screen, a larger font, no technical columns: for a projector", toolbar=False, checkable=True),
    ActionSpec("action_about", "&About Mixscope", "F1", "&Help", "What Mixscope is, its version and licence",
               toolbar=False),
)


def install_actions(window: QMainWindow) -> dict[str, QAction]:
    """Create every action on `window`, put it in its menu (and the toolbar), and return them by name."""
    toolbar = QToolBar("Main", window)
    toolbar.setObjectName("main_toolbar")
    window.addToolBar(toolbar)
    menus: dict[str, QMenu] = {}
    actions: dict[str, QAction] = {}
    for spec in ACTIONS:
        action = QAction(spec.text, window)
        action.setObjectName(spec.name)
        action.setShortcut(QKeySequence(spec.shortcut))
        action.setCheckable(spec.checkable)
        shortcut_text = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{spec.tip} ({shortcut_text})" if shortcut_text else spec.tip)
        action.setStatusTip(spec.tip)
        if spec.menu not in menus:
            menus[spec.menu] = window.menuBar().addMenu(spec.menu)
        menus[spec.menu].addAction(action)
        if spec.toolbar:
            if toolbar.actions() and _group(toolbar) != spec.menu:
                toolbar.addSeparator()
            toolbar.addAction(action)
            toolbar.setProperty("last_menu", spec.menu)
        window.addAction(action)  # shortcuts work even when the menu bar is hidden
        actions[spec.name] = action
    return actions


def _group(toolbar: QToolBar) -> str | None:
    return toolbar.property("last_menu")
