"""Light and dark themes. "system" (the default) follows the desktop's colour scheme, live.

Fusion with an explicit palette looks the same on every platform (offscreen included), so a theme is a
palette: dark is built here, light is Fusion's standard one. Plots (pyqtgraph) are not palette-aware; they
ask `is_dark()` and are restyled on `ThemeManager.changed`.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

THEMES = ("system", "light", "dark")


def dark_palette() -> QPalette:
    palette = QPalette()
    window, base, text = QColor(37, 37, 40), QColor(28, 28, 31), QColor(228, 228, 231)
    roles = {
        QPalette.ColorRole.Window: window, QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base, QPalette.ColorRole.AlternateBase: QColor(44, 44, 48),
        QPalette.ColorRole.ToolTipBase: QColor(50, 50, 54), QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: QColor(140, 140, 146), QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: QColor(48, 48, 52), QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor(255, 90, 90), QPalette.ColorRole.Link: QColor(96, 165, 250),
        QPalette.ColorRole.Highlight: QColor(37, 99, 235), QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
        QPalette.ColorRole.Light: QColor(70, 70, 75), QPalette.ColorRole.Midlight: QColor(58, 58, 62),
        QPalette.ColorRole.Mid: QColor(80, 80, 86), QPalette.ColorRole.Dark: QColor(20, 20, 22),
        QPalette.ColorRole.Shadow: QColor(0, 0, 0),
    }
    for role, color in roles.items():
        palette.setColor(role, color)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 120, 126))
    return palette


def system_is_dark() -> bool:
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


class ThemeManager(QObject):
    changed = Signal(bool)  # dark?

    def __init__(self, app: QApplication, settings: QSettings | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.app, self.settings = app, settings
        saved = settings.value("view/theme", "system") if settings is not None else "system"
        self.theme = saved if saved in THEMES else "system"
        self.dark = False
        app.styleHints().colorSchemeChanged.connect(self._system_changed)

    def apply(self, theme: str | None = None) -> None:
        if theme is not None:
            if theme not in THEMES:
                raise ValueError(f"theme must be one of {THEMES}")
            self.theme = theme
            if self.settings is not None:
                self.settings.setValue("view/theme", theme)
        self.dark = self.theme == "dark" or (self.theme == "system" and system_is_dark())
        style = QStyleFactory.create("Fusion")
        if style is not None and self.app.style().name().lower() != "fusion":
            self.app.setStyle(style)
        self.app.setPalette(dark_palette() if self.dark else self.app.style().standardPalette())
        self.changed.emit(self.dark)

    def _system_changed(self, *_):
        if self.theme == "system":
            self.apply()
