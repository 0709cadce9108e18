"""The files in resources/ and their use: the window's icon, the toolbar's icons (recoloured for the dark
theme), the About box, and the freedesktop entry."""

from __future__ import annotations

import configparser
import re
import tomllib
from pathlib import Path

import pytest
from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtGui import QColor
from PySide6.QtSvg import QSvgRenderer

from mixscope.gui import icons
from mixscope.gui.about import about_box
from mixscope.gui.actions import ACTIONS
from mixscope.gui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def window(qtbot, server, tmp_path):
    win = MainWindow(server, QSettings(str(tmp_path / "panel.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    yield win
    win.close()


def mean_ink_lightness(icon) -> float:
    image = icon.pixmap(24, 24).toImage()
    pixels = [QColor.fromRgba(image.pixel(x, y)) for x in range(24) for y in range(24)]
    inked = [c for c in pixels if c.alpha() > 200]
    assert inked, "the icon draws nothing"
    return sum(c.lightnessF() for c in inked) / len(inked)


def test_every_svg_is_valid_and_the_toolbar_set_is_drawn_in_the_one_ink():
    files = sorted((ROOT / "mixscope" / "resources").rglob("*.svg"))
    assert len(files) >= 2
    for path in files:
        assert QSvgRenderer(QByteArray(path.read_bytes())).isValid(), path
    for path in (ROOT / "mixscope" / "resources" / "icons").glob("*.svg"):
        colours = set(re.findall(r"#[0-9a-fA-F]{3,6}\b", path.read_text()))
        assert colours == {icons.INK}, (path.name, colours)  # else the dark variant would miss a colour
    drawn = {f.stem for f in (ROOT / "mixscope" / "resources" / "icons").glob("*.svg")}
    assert drawn == set(icons.ACTION_ICONS.values())


def test_window_and_every_toolbar_action_have_icons_that_follow_the_theme(window):
    assert not window.windowIcon().isNull()
    toolbar_actions = {spec.name for spec in ACTIONS if spec.toolbar}
    assert toolbar_actions <= set(icons.ACTION_ICONS)
    for name in toolbar_actions:
        assert not window.actions_by_name[name].icon().isNull(), name
    window.theme.apply("light")
    light = mean_ink_lightness(window.actions_by_name["action_mix"].icon())
    window.theme.apply("dark")
    dark = mean_ink_lightness(window.actions_by_name["action_mix"].icon())
    assert light < 0.35 < 0.7 < dark, (light, dark)


def test_about_box_shows_the_icon_the_version_and_the_licence(window, qtbot):
    assert window.actions_by_name["action_about"].isEnabled()
    box = about_box(window)
    qtbot.addWidget(box)
    assert not box.iconPixmap().isNull() and box.iconPixmap().width() == 64
    assert box.text().startswith("Mixscope ") and "MIT" in box.informativeText()


def test_desktop_entry_launches_the_installed_command_with_the_app_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(ROOT / "mixscope" / "resources" / icons.DESKTOP_ENTRY, encoding="utf-8")
    desktop = entry["Desktop Entry"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert desktop["Type"] == "Application" and desktop["Name"] == "Mixscope"
    assert desktop["Exec"].split()[0] in scripts
    assert desktop["Icon"] == Path(icons.APP_ICON).stem
    assert desktop["Categories"].endswith(";") and desktop["Terminal"] == "false"
