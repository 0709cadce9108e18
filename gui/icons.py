"""The panel's icons: the application icon and the toolbar's, SVG files in the top-level resources/ folder.

An installed wheel carries that folder as the package data `mixscope/resources` (pyproject.toml maps it);
a source checkout reads it in place. The toolbar icons are drawn in one ink colour; on a dark theme they are
rendered with a light ink instead, so one set of files serves both themes.
"""

from __future__ import annotations

import functools
import importlib.resources
from importlib.resources.abc import Traversable
from typing import Any, Mapping

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QAction, QIcon, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

APP_ICON = "mixscope.svg"
DESKTOP_ENTRY = "mixscope.desktop"
INK = "#2b3440"  # the colour every toolbar icon file is drawn in
DARK_INK = "#e4e4e7"  # the dark palette's text colour (gui/theme.py)
SIZES = (16, 24, 32, 48, 64, 128, 256)

# action objectName -> icon file in resources/icons (every toolbar action has one; tests check it)
ACTION_ICONS = {
    "action_server_start": "server-start", "action_server_stop": "server-stop", "action_mix": "mix",
    "action_send_to_client": "send", "action_broadcast": "broadcast", "action_disconnect_client": "disconnect",
    "action_spawn_nodes": "spawn", "action_kill_process": "kill", "action_restart_process": "restart",
    "action_pause_traffic": "pause", "action_clear_traffic": "clear", "action_about": "about",
}


@functools.cache
def resource_dir() -> Traversable:
    """The package data `mixscope/resources`: in a checkout, the link to the top-level resources/ folder."""
    return importlib.resources.files("mixscope") / "resources"


def resource(*parts: str) -> Traversable:
    found = resource_dir().joinpath(*parts)
    if not found.is_file():
        raise FileNotFoundError(f"Mixscope resource {'/'.join(parts)} is missing from {resource_dir()}")
    return found


def _render(svg: bytes, sizes: tuple[int, ...] = SIZES) -> QIcon:
    renderer = QSvgRenderer(QByteArray(svg))
    icon = QIcon()
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        icon.addPixmap(QPixmap.fromImage(image))
    return icon


@functools.cache
def app_icon() -> QIcon:
    return _render(resource(APP_ICON).read_bytes())


@functools.cache
def toolbar_icon(name: str, dark: bool = False) -> QIcon:
    svg = resource("icons", f"{name}.svg").read_bytes()
    if dark:
        svg = svg.replace(INK.encode(), DARK_INK.encode())
    return _render(svg, (16, 24, 32, 48))


def set_action_icons(actions: Mapping[str, QAction], dark: bool) -> None:
    for name, icon_name in ACTION_ICONS.items():
        if name in actions:
            actions[name].setIcon(toolbar_icon(icon_name, dark))


def install(window: Any, actions: Mapping[str, QAction], theme: Any) -> None:
    """The window's icon, and the actions' icons now and whenever the theme turns light or dark."""
    window.setWindowIcon(app_icon())
    set_action_icons(actions, theme.dark)
    theme.changed.connect(functools.partial(set_action_icons, actions))
