"""`mixscope` / `mixscope gui`: open the panel. Its server starts on a worker thread (port from --port)."""

from __future__ import annotations

import argparse
import gc
import signal
import sys
from dataclasses import dataclass

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from mixscope.gui.display import NO_DISPLAY_HELP, has_display
from mixscope.gui.layout import fit_to_screen
from mixscope.gui.main_window import MainWindow

# The panel's process also runs the server, whose threads parse and verify big messages: a shorter GIL
# switch interval (default 5 ms) hands the GUI thread the interpreter back sooner.
GIL_SWITCH_S = 0.001
DEFAULT_SIZE = (1440, 900)  # the wide layout on a 1920×1080 screen; smaller screens get the compact one


def settle_interpreter() -> None:
    """Once the window and the server's modules exist: the short GIL switch interval, and every object alive now
    (modules, classes, widgets) moved out of the cyclic collector's reach. A full collection walks every tracked
    object holding the GIL: 70-100 ms over the panel's start-up objects on a loaded 2-core machine, a stall the
    GUI thread feels each time the server's big messages trigger one; frozen, it walks only what came later."""
    sys.setswitchinterval(GIL_SWITCH_S)
    gc.collect()
    gc.freeze()


@dataclass(frozen=True)
class PanelSettings:
    """`mixscope gui`'s options (mixscope/cli.py builds them once from the command line)."""

    port: int = 0
    demo: bool = False
    demo_voters: int = 40
    demo_quit: bool = False
    demo_delay: float = 4.0
    tally: str = "mixnet"  # the demo's tally mode
    open: str | None = None  # a saved session's folder, shown read-only
    certfile: str | None = None
    keyfile: str | None = None
    connect: str | None = None  # a running `mixscope serve` to attach to
    token: str | None = None
    cafile: str | None = None
    allowed_hosts: tuple[str, ...] = ()

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "PanelSettings":
        return cls(port=args.port or 0, demo=args.demo, demo_voters=args.demo_voters or 40, demo_quit=args.demo_quit,
                   demo_delay=args.demo_delay, tally=getattr(args, "tally", "mixnet"), open=args.open,
                   certfile=args.certfile, keyfile=args.keyfile,
                   connect=args.connect, token=args.token, cafile=args.cafile,
                   allowed_hosts=tuple(args.allowed_host or ()))


def run(settings: PanelSettings) -> int:
    if not has_display():  # QApplication would abort the process with Qt's plugin error
        print(f"mixscope: {NO_DISPLAY_HELP}", file=sys.stderr)
        return 2
    from mixscope.server.runner import ServerRunner  # imported here so `mixscope --help` stays light
    from mixscope.wire import tls

    certfile = settings.certfile
    try:
        context = tls.server_context(certfile, settings.keyfile) if certfile else None
    except tls.TlsError as exc:
        print(f"mixscope gui: {exc}", file=sys.stderr)
        return 2

    connect = settings.connect
    if connect:
        runner = _remote(connect, settings.token, settings.cafile)  # env: client.admin
        if runner is None:
            return 2
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setOrganizationName("Mixscope")
    app.setApplicationName("Mixscope")
    app.setDesktopFileName("mixscope")  # resources/mixscope.desktop: the desktop matches the window to it
    if not connect:
        runner = ServerRunner(port=settings.port, tls=context,  # TLS: https and wss
                              allowed_hosts=settings.allowed_hosts)
    window = MainWindow(runner, QSettings())
    fit_to_screen(window, *DEFAULT_SIZE)  # never larger than the screen (a 1280×720 projector)
    if connect:
        from mixscope.gui.remote import RemoteAttachment

        RemoteAttachment(window)
        window.setWindowTitle(f"Mixscope — {runner.url}")
    demo = None
    if settings.demo:
        from mixscope.gui.election.demo import DEMO_SPEC, HOMOMORPHIC_DEMO_SPEC, DemoDirector

        spec = HOMOMORPHIC_DEMO_SPEC if settings.tally == "homomorphic" else DEMO_SPEC
        demo = DemoDirector(window, voters=settings.demo_voters, delay=settings.demo_delay, spec=spec)
        if settings.demo_quit:  # unattended runs (tests, CI): exit when the demo ends
            demo.finished.connect(lambda ok, _caption: app.exit(0 if ok else 1))
    window.show()
    settle_interpreter()
    folder = settings.open
    if folder:  # a saved session is read-only: no server needed to look at it
        window.open_session(folder)
    else:
        window.start_server()
    if demo is not None:
        demo.start()
    # Ctrl+C / SIGTERM close the window like Quit does (stopping the server and every node). Qt's loop
    # never returns to Python on its own, so a light timer gives Python's signal handlers a chance to run.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: window.close())
    wakeup = QTimer()
    wakeup.timeout.connect(lambda: None)
    wakeup.start(200)
    try:
        return app.exec()
    finally:
        window.shutdown()
        if connect:
            runner.close()


def _remote(url: str, token: str | None, cafile: str | None):
    """A RemoteServer for --connect (None after a one-line error)."""
    import os

    from mixscope.client.admin import CAFILE_ENV, TOKEN_ENV
    from mixscope.client.remote import RemoteServer
    from mixscope.wire.tls import TlsError

    token = token or os.environ.get(TOKEN_ENV)
    cafile = cafile or os.environ.get(CAFILE_ENV) or None
    if not token:
        print(f"mixscope gui: --connect needs the admin token: --token T or ${TOKEN_ENV}", file=sys.stderr)
        return None
    try:
        return RemoteServer(url, token, cafile=cafile)
    except (ValueError, TlsError) as exc:
        print(f"mixscope gui: {exc}", file=sys.stderr)
        return None
