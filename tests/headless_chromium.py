"""Test support: a real headless Chromium driven over the DevTools protocol (websocket-client), to measure
how the HTML pages lay out at a given viewport width and to take screenshots. `Chromium.find()` is None when
no Chromium is installed, so the tests that need one skip cleanly."""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import websocket

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--remote-debugging-port=0", "about:blank"]

# Measured in the page: the document's width against the viewport's, and every election id's box (one line
# of text when its height is under two line heights).
LAYOUT_JS = """JSON.stringify({
  scrollWidth: document.documentElement.scrollWidth,
  viewport: document.documentElement.clientWidth,
  ids: Array.from(document.querySelectorAll('code.id')).map(e => {
    const style = getComputedStyle(e);
    return {text: e.textContent, height: e.getBoundingClientRect().height,
            lineHeight: parseFloat(style.lineHeight) || 1.5 * parseFloat(style.fontSize)};
  }),
})"""


class Chromium:
    def __init__(self, binary: str, profile: Path):
        self.proc = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={profile}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as response:
            page = next(t for t in json.load(response) if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        self._ids = itertools.count(1)
        self.events: list[str] = []  # methods of the events seen while waiting for replies
        self.call("Page.enable")

    @classmethod
    def find(cls) -> str | None:
        return next((path for name in ("chromium", "chromium-browser", "google-chrome")
                     if (path := shutil.which(name))), None)

    def call(self, method: str, **params) -> dict:
        request_id = next(self._ids)
        self.ws.send(json.dumps({"id": request_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if "method" in message:
                self.events.append(message["method"])
            if message.get("id") == request_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def open(self, url: str, width: int, height: int = 800) -> dict:
        """Load `url` in a viewport `width` CSS px wide (a phone when narrow) and return LAYOUT_JS's figures."""
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                  mobile=width < 600)
        self.events.clear()
        self.call("Page.navigate", url=url)
        while "Page.loadEventFired" not in self.events:  # this navigation's load (nothing else loads here)
            message = json.loads(self.ws.recv())
            self.events.append(message.get("method", ""))
        value = self.call("Runtime.evaluate", expression=LAYOUT_JS)["result"]["value"]
        return json.loads(value)

    def screenshot(self, path: Path) -> None:
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
