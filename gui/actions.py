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
    ActionSpec("action_mix", "&Mix", "Ctrl+M", "&Nodes", "Ask every connected node to mix (bridge call)"),
    ActionSpec("action_send_to_client", "&Send to client…", "Ctrl+E", "&Nodes", "Send a JSON message to the selected client"),
    ActionSpec("action_broadcast", "&Broadcast…", "Ctrl+B", "&Nodes", "Send a JSON message to every client"),
    ActionSpec("action_disconnect_client", "&Disconnect client", "Ctrl+D", "&Nodes", "Close the selected client's websocket"),
    ActionSpec("action_spawn_nodes", "Spa&wn nodes…", "Ctrl+N", "&Processes", "Start node processes against this server"),
    ActionSpec("action_kill_process", "&Kill process", "Ctrl+K", "&Processes", "Kill the selected node process"),
    ActionSpec("action_restart_process", "&Restart process", "Ctrl+Shift+R", "&Processes",
               "Kill and start the selected node process again"),
    ActionSpec("action_pause_traffic", "&Pause traffic", "Ctrl+P", "&Traffic",
               "Hold new traffic rows until resumed", checkable=True),
    ActionSpec("action_clear_traffic", "&Clear traffic", "Ctrl+L", "&Traffic", "Remove every traffic row"),
    ActionSpec("action_filter_traffic", "&Filter traffic", "Ctrl+F", "&Traffic",
               "Focus the traffic filter box", toolbar=False),
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
