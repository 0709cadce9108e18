"""The server strip at the top of the panel: state, URLs, and the admin token (masked, copyable)."""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QToolButton, QWidget

from mixscope.gui.views import PlainLabel


class ServerBar(QWidget):
    def __init__(self, copy_token: QAction, parent=None):
        super().__init__(parent)
        self.setObjectName("server_bar")
        self.state_label = PlainLabel("stopped")
        self.state_label.setObjectName("server_state")
        self.url_edit = self._readonly("server_url", "server not running")
        self.ws_edit = self._readonly("server_ws_url", "")
        self.token_edit = self._readonly("admin_token", "")
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)  # masked: screenshots and shoulders
        self.token_edit.setToolTip("Admin token: send as 'Authorization: Bearer …' to admin routes")
        self.copy_button = QToolButton()
        self.copy_button.setObjectName("copy_admin_token_button")
        self.copy_button.setDefaultAction(copy_token)
        self.copy_button.setText("Copy")

        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(PlainLabel("Server:"))
        layout.addWidget(self.state_label)
        layout.addSpacing(12)
        layout.addWidget(PlainLabel("URL"))
        layout.addWidget(self.url_edit, 2)
        layout.addWidget(PlainLabel("WS"))
        layout.addWidget(self.ws_edit, 2)
        layout.addSpacing(12)
        layout.addWidget(PlainLabel("Admin token"))
        layout.addWidget(self.token_edit, 1)
        layout.addWidget(self.copy_button)
        layout.addSpacing(12)
        layout.addWidget(PlainLabel("Cluster"))
        # Applied when the server (re)starts: a Dask scheduler or local:N for the proof work (engine/cluster.py).
        self.cluster_edit = QLineEdit()
        self.cluster_edit.setObjectName("server_cluster")
        self.cluster_edit.setPlaceholderText("none: local processes (tcp://host:8786 or local:2)")
        self.cluster_edit.setToolTip("Run the proof work on a Dask cluster; takes effect at the next server start")
        layout.addWidget(self.cluster_edit, 1)

    @staticmethod
    def _readonly(name: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(name)
        edit.setReadOnly(True)
        edit.setPlaceholderText(placeholder)
        return edit

    def show_running(self, url: str, ws_url: str, token: str, state: str = "● running") -> None:
        self.state_label.setText(state)
        self.url_edit.setText(url)
        self.ws_edit.setText(ws_url)
        self.token_edit.setText(token)

    def show_state(self, text: str) -> None:
        self.state_label.setText(text)
