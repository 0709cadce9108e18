"""Actions wiring: which slot each window action triggers, and when the window's own actions are enabled.

The election actions are wired and enabled by the election controller (gui/election/enabling.py says when).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QActionGroup

from mixscope.gui.theme import ThemeManager

THEMES = ("system", "light", "dark")


def connect_actions(actions: Mapping[str, QAction], handlers: Mapping[str, Callable[..., Any]]) -> None:
    """Connect each action to its handler: `toggled(bool)` for a checkable action, `triggered` otherwise."""
    for name, handler in handlers.items():
        action = actions[name]
        (action.toggled if action.isCheckable() else action.triggered).connect(handler)


def connect_theme_actions(actions: Mapping[str, QAction], theme: ThemeManager, parent: QObject) -> QActionGroup:
    """View ▸ Theme: one checked choice among system, light and dark."""
    group = QActionGroup(parent)
    for name in THEMES:
        action = actions[f"action_theme_{name}"]
        group.addAction(action)
        action.setChecked(name == theme.theme)
        action.triggered.connect(lambda _=False, choice=name: theme.apply(choice))
    return group


def enabled_window_actions(*, server_up: bool, has_client: bool, has_process: bool) -> dict[str, bool]:
    """The Nodes and Processes actions: the server must run to talk to clients; a selection to act on one."""
    return {
        "action_mix": server_up,
        "action_broadcast": server_up,
        "action_spawn_nodes": server_up,
        "action_send_to_client": server_up and has_client,
        "action_disconnect_client": server_up and has_client,
        "action_kill_process": has_process,
        "action_restart_process": has_process,
        "action_follow_client": has_client,
    }
