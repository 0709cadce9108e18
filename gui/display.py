"""Whether Qt can show a window here, decided before Qt loads (no Qt import in this module).

On Linux and the BSDs Qt's default platform needs an X11 or Wayland display; without one QApplication aborts
the process. The test suite falls back to the offscreen platform; the panel says how to run it instead.
"""

from __future__ import annotations

import os
import sys
from typing import MutableMapping

NO_DISPLAY_HELP = ("no display to open the panel on: run it under a virtual display (xvfb-run -a mixscope), "
                   "or use the headless commands (mixscope serve, mixscope demo)")


def has_display(environ: MutableMapping[str, str] | None = None) -> bool:
    """True when a window can open: a platform chosen explicitly (QT_QPA_PLATFORM), an X11 or Wayland display,
    or a system whose windowing needs no display variable (macOS, Windows)."""
    env = os.environ if environ is None else environ
    if sys.platform in ("darwin", "win32"):
        return True
    return any(env.get(name) for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"))


def use_offscreen_without_display(environ: MutableMapping[str, str] | None = None) -> bool:
    """Pick Qt's offscreen platform when there is no display (tests, benches); True if it did."""
    env = os.environ if environ is None else environ
    if has_display(env):
        return False
    env["QT_QPA_PLATFORM"] = "offscreen"
    return True
