"""The panel's layout on small screens and on a projector.

- Every live table keeps room for at least MIN_ROWS rows (its minimum height), so a splitter or a dock can
  never squeeze one to a single row.
- AdaptiveLayout: when the window is smaller than the wide layout needs (the election dock, its cards at full
  height, above the clients, processes and traffic tables, each with MIN_ROWS rows), the election and the
  tables become two tabs, "Election" and "Nodes and traffic", each with the whole height. Larger again,
  they go back. Only two widgets move (the dock's scroll area and the main splitter); splitters keep their
  sizes, so saved layouts stay valid.
- PresentationMode: View ▸ Presentation mode (F11) shows the window full screen with a larger font, hides the
  technical columns and panes (process ids, byte counts, raw output, raw JSON) and restores it all on leaving.
- fit_to_screen: a window's first size, never larger than the screen it opens on.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QFont
from PySide6.QtWidgets import (
    QBoxLayout,
    QDockWidget,
    QHeaderView,
    QLayout,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QStyle,
    QTableView,
    QTabWidget,
    QWidget,
)

MIN_ROWS = 5
WINDOW_MIN_SIZE = QSize(480, 360)  # the window's own minimum: below the wide layout's, on purpose
CASCADE_HEIGHT = 160  # px at the normal font: a card's title, state, bar and up to five lines of detail
PRESENTATION_SCALE = 1.5
FULL_SCREEN_CHECK_MS = 300  # a window manager has answered the full-screen request by then
# Columns and panes a projector audience does not need (by header text / objectName).
TECHNICAL_COLUMNS = {
    "clients_view": ("Peer", "Bytes in", "Bytes out", "RTT ms"),
    "processes_view": ("PID", "Node", "CPU %", "Memory", "Exit code"),
    "traffic_view": ("Size",),
}
TECHNICAL_PANES = ("process_log", "traffic_detail")


def fit_to_screen(window: QWidget, width: int, height: int) -> None:
    """Resize to width × height, or to what the screen's available area leaves (frame included) when that is
    smaller, and move the window onto that area."""
    window.winId()  # the platform window exists: its frame margins are known where the platform says them
    screen = window.screen()
    area = screen.availableGeometry()
    handle = window.windowHandle()
    margins = handle.frameMargins() if handle is not None else None
    frame_w = margins.left() + margins.right() if margins is not None else 0
    frame_h = margins.top() + margins.bottom() if margins is not None else 0
    window.resize(min(width, area.width() - frame_w), min(height, area.height() - frame_h))
    window.move(area.topLeft())


def reserve_rows(view: QTableView, rows: int = MIN_ROWS) -> None:
    """Set the table's row height from its current font and its minimum height to header + `rows` rows."""
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 6)
    scrollbar = view.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
    rows_height = rows * view.verticalHeader().defaultSectionSize()
    view.setMinimumHeight(view.horizontalHeader().sizeHint().height() + rows_height + scrollbar + 2 * view.frameWidth())


def visible_rows(view: QTableView) -> int:
    """How many whole rows the table's viewport can show (0 when it is not shown at all)."""
    if not view.isVisible() or view.visibleRegion().isEmpty():
        return 0
    return view.viewport().height() // max(1, view.verticalHeader().defaultSectionSize())


class AdaptiveLayout(QObject):
    """Wide: the election dock above the tables. Compact (the window lower than the wide layout's minimum):
    two tabs. The window's own minimum is set small on purpose, so that it can be made smaller than the wide
    layout needs; the next resize event then switches to compact instead of the window refusing to shrink."""

    def __init__(self, window: QMainWindow, dock: QDockWidget, skeleton: QWidget, cascade: QWidget):
        super().__init__(window)
        self.window, self.dock, self.skeleton, self.cascade = window, dock, skeleton, cascade
        content = dock.widget()  # the scroll area holding the election panel
        if not isinstance(content, QScrollArea):
            raise TypeError("the election dock must hold a scroll area")
        self.content = content
        self._content_squeezable = self.content.minimumHeight()  # in a tab it may scroll
        self.compact = False
        self._wide_minimum = QSize()  # measured in the wide layout, kept while compact
        self._tab = 0  # the compact tab shown last (the election first)
        self.scale = 1.0
        self._cascade_height = cascade.maximumHeight()
        self.tabs = QTabWidget()
        self.tabs.setObjectName("compact_tabs")
        self.tabs.setDocumentMode(True)
        self.tabs.hide()
        self._placeholder = QWidget()  # what the dock holds while its content sits in a tab
        _box_layout(window.centralWidget()).addWidget(self.tabs, 1)
        window.setMinimumSize(WINDOW_MIN_SIZE)
        self._pending = False
        self._stale = True  # the minimums are measured once the window is shown (fonts and styles polished)
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() in (QEvent.Type.Resize, QEvent.Type.Show) and not self._pending:
            self._pending = True  # one decision per burst of resizes, after the window has its new size
            QTimer.singleShot(0, self.update)
        return False

    def set_scale(self, scale: float) -> None:
        """The font grew or shrank by `scale`: rows, cards and the wide layout's minimum grow with it."""
        self.scale = scale
        self._stale = True
        self.update()

    def _reserve(self) -> None:
        for view in self.window.findChildren(QTableView):
            reserve_rows(view)
        # The cascade's cards keep their full height (a tally of several candidates needs it) ...
        self.cascade.setMinimumHeight(round(CASCADE_HEIGHT * self.scale))
        self.cascade.setMaximumHeight(round(max(CASCADE_HEIGHT, self._cascade_height) * self.scale))
        # ... and parts given small fixed minimums (so that the dock could squeeze them) get their contents'
        # minimum instead: the tables' rows must stay; the compact layout is the answer to a small window.
        body = self.cascade.parentWidget()
        for part in (*_children(self.skeleton), *_children(body)):
            if part is not self.cascade:
                part.setMinimumHeight(0)
                part.setMinimumHeight(part.minimumSizeHint().height())
        for splitter in (body, self.skeleton):
            if splitter is not None:
                splitter.updateGeometry()  # drops the size hints cached for them by the layouts holding them
        panel = self.content.widget()
        if panel is None:
            raise RuntimeError("the election dock's scroll area holds no panel")
        _layout(panel).invalidate()
        self._content_height = panel.minimumSizeHint().height()
        if not self.compact:  # in the wide layout the dock may not squeeze the election panel
            self.content.setMinimumHeight(self._content_height)

    def wide_minimum(self) -> QSize:
        """The smallest window the wide layout fits in (menus, toolbars, dock, tables, status bar)."""
        if self.compact:
            return self._wide_minimum
        _layout(self.window).invalidate()
        self._wide_minimum = _layout(self.window).minimumSize()
        return self._wide_minimum

    def update(self) -> None:
        self._pending = False
        if self._stale:  # measure the wide layout as it is now, with the current font
            if self.compact:
                self._to_wide()
            self._reserve()
            self._stale = False
        if not self.compact and self.dock.isHidden():  # a state saved in compact mode hid it
            self.dock.show()
        needed, size = self.wide_minimum(), self.window.size()
        small = size.height() < needed.height() or size.width() < needed.width()
        if small != self.compact:
            self._to_compact() if small else self._to_wide()

    def _to_compact(self) -> None:
        self.compact = True
        self.content.setMinimumHeight(self._content_squeezable)
        self.dock.setWidget(self._placeholder)
        self.dock.hide()
        self.tabs.addTab(self.content, "Election")
        self.tabs.addTab(self.skeleton, "Nodes and traffic")
        self.tabs.setCurrentIndex(self._tab)
        self.tabs.show()

    def _to_wide(self) -> None:
        self.compact = False
        self._tab = self.tabs.currentIndex()
        self.tabs.clear()  # takes the pages out without deleting them
        self.tabs.hide()
        _box_layout(self.window.centralWidget()).insertWidget(0, self.skeleton, 1)
        self.skeleton.show()
        self.content.setMinimumHeight(self._content_height)
        self.dock.setWidget(self.content)
        self.content.show()
        self.dock.show()


class PresentationMode(QObject):
    """Full screen, a larger font, no technical columns; the window comes back as it was on leaving."""

    def __init__(self, window: QMainWindow, action: QAction, adaptive: AdaptiveLayout):
        super().__init__(window)
        self.window, self.adaptive = window, adaptive
        self.on = False
        self._font: QFont | None = None
        self._was_maximized = False
        self.action = action
        action.toggled.connect(self.set_on)
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Close and self.on:
            self.action.setChecked(False)  # the saved geometry and font are the normal ones
        return False

    def set_on(self, on: bool) -> None:
        if on == self.on:
            return
        self.on = on
        window = self.window
        factor = PRESENTATION_SCALE if on else 1 / PRESENTATION_SCALE
        before = {widget: _font_size(widget) for widget in window.findChildren(QWidget)}
        if on:
            self._was_maximized = window.isMaximized()
            self._font = QFont(window.font())
            bigger = QFont(self._font)
            bigger.setPointSizeF(self._font.pointSizeF() * PRESENTATION_SCALE)
            window.setFont(bigger)
        elif self._font is not None:
            window.setFont(self._font)
        # Widgets that did not follow: a style sheet (on them or an ancestor) fixed their font when it was
        # polished, or they set their own size (the demo caption). They are scaled one by one.
        for widget, size in before.items():
            if size > 0 and _font_size(widget) == size:
                _scale_font(widget, factor)
        self._show_technical(not on)
        self.adaptive.set_scale(PRESENTATION_SCALE if on else 1.0)
        if on:
            window.showFullScreen()
            QTimer.singleShot(FULL_SCREEN_CHECK_MS, self._cover_screen)
        elif self._was_maximized:
            window.showMaximized()
        else:
            window.showNormal()

    def _cover_screen(self) -> None:
        """Without a window manager (a bare X server) a full-screen request is not honoured: cover the screen."""
        screen = self.window.screen().geometry()
        if self.on and self.window.frameGeometry() != screen:
            self.window.setGeometry(screen)

    def _show_technical(self, shown: bool) -> None:
        factor = 1 / PRESENTATION_SCALE if shown else PRESENTATION_SCALE
        for view in self.window.findChildren(QTableView):
            header = view.horizontalHeader()
            technical = TECHNICAL_COLUMNS.get(view.objectName(), ())
            stretch = header.stretchLastSection()
            header.setStretchLastSection(False)  # the stretched section is recomputed below, once
            for column in range(header.count()):
                if view.model().headerData(column, Qt.Orientation.Horizontal) in technical:
                    view.setColumnHidden(column, not shown)
                elif header.sectionResizeMode(column) == QHeaderView.ResizeMode.Interactive:
                    view.setColumnWidth(column, round(view.columnWidth(column) * factor))  # larger text
            header.setStretchLastSection(stretch)
        for name in TECHNICAL_PANES:
            pane = self.window.findChild(QWidget, name)
            if pane is not None:
                pane.setVisible(shown)

def _font_size(widget: QWidget) -> float:
    font = widget.font()
    return font.pointSizeF() if font.pointSizeF() > 0 else float(font.pixelSize())


def _scale_font(widget: QWidget, factor: float) -> None:
    font = widget.font()
    if font.pointSizeF() > 0:
        font.setPointSizeF(font.pointSizeF() * factor)
    else:
        font.setPixelSize(round(font.pixelSize() * factor))
    widget.setFont(font)
    if 0 < widget.minimumHeight() == widget.maximumHeight():  # a fixed height sized for its text
        widget.setFixedHeight(round(widget.minimumHeight() * factor))


def _children(splitter: QWidget | None) -> list[QWidget]:
    if not isinstance(splitter, QSplitter):
        return []
    return [w for w in (splitter.widget(i) for i in range(splitter.count())) if w is not None]


def _layout(widget: QWidget | None) -> QLayout:
    """The layout of a widget this window was built with (each one used here has one)."""
    layout = widget.layout() if widget is not None else None
    if layout is None:
        raise RuntimeError("the window's layout is not built")
    return layout


def _box_layout(widget: QWidget | None) -> QBoxLayout:
    layout = _layout(widget)
    if not isinstance(layout, QBoxLayout):
        raise RuntimeError("the central widget's layout must be a box layout")
    return layout
