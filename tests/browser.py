"""Headless Chromium, driven over the DevTools protocol, with networking cut off.

Used by the browser tests, ``benchmarks/bench_maps.py`` and ``scripts/make_screenshots.py`` to
open a map as an analyst would (a file on disk), read back what was drawn, hover a node, record
every request the page makes, and take screenshots. Needs the ``chromium`` binary (Debian package
``chromium``; ``scripts/install-system-deps.sh``) and ``websocket-client``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from netanalysis.errors import ConfigError

__all__ = ["Chromium", "find_chromium"]

_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--metrics-recording-only",
    "--mute-audio",
    # Nothing can resolve and everything else goes to a proxy on a closed port: a request the page
    # makes fails, and the recorder still sees it.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
]


def find_chromium() -> str:
    """Path of the Chromium binary (``CHROMIUM`` environment variable, else on PATH)."""
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate:
            path = shutil.which(candidate)
            if path:
                return path
    raise ConfigError(
        "Chromium was not found; install it with scripts/install-system-deps.sh or set CHROMIUM"
    )


class Chromium:
    """One headless Chromium with one page, controlled through CDP.

    Use as a context manager. ``requests`` lists the URL of every request the page started
    (CDP ``Network.requestWillBeSent``), including ones that were blocked or failed.
    """

    def __init__(self, width: int = 1400, height: int = 900, timeout: float = 60.0) -> None:
        self.width, self.height, self.timeout = width, height, timeout
        self.requests: list[str] = []
        #: (url, frame id) of every request, to tell a map in an iframe from the page around it.
        self.request_frames: list[tuple[str, str]] = []
        #: DevTools sessions of frames that run in a process of their own (a sandboxed iframe),
        #: by frame id.
        self.frame_sessions: dict[str, str] = {}
        self._replies: dict[int, dict[str, Any]] = {}
        self.console: list[str] = []
        self.exceptions: list[str] = []
        self._msg_id = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._profile = tempfile.mkdtemp(prefix="netanalysis-chromium-")
        self._ws: Any = None

    # -- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> Chromium:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        import websocket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        cmd = [
            find_chromium(),
            *_FLAGS,
            f"--user-data-dir={self._profile}",
            f"--remote-debugging-port={port}",
            "--remote-debugging-address=127.0.0.1",
            f"--window-size={self.width},{self.height}",
            "about:blank",
        ]
        self._proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + self.timeout
        ws_url = None
        while time.monotonic() < deadline and ws_url is None:
            try:
                # The DevTools endpoint on loopback; the browser's own proxy settings do not apply here.
                opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
                with opener.open(f"http://127.0.0.1:{port}/json/list", timeout=2) as resp:
                    targets = json.loads(resp.read())
                pages = [t for t in targets if t.get("type") == "page"]
                if pages:
                    ws_url = pages[0]["webSocketDebuggerUrl"]
            except OSError:
                if self._proc.poll() is not None:
                    raise ConfigError("Chromium exited at start; run it by hand to see why") from None
                time.sleep(0.1)
        if ws_url is None:
            self.close()
            raise ConfigError("Chromium did not open its DevTools port in time")
        self._ws = websocket.create_connection(ws_url, timeout=self.timeout, suppress_origin=True)
        for method in ("Network.enable", "Page.enable", "Runtime.enable"):
            self.send(method)
        self.send("Network.setCacheDisabled", cacheDisabled=True)
        # Frames that Chromium runs in another process (sandboxed iframes) get a session each.
        self.send("Target.setAutoAttach", autoAttach=True, waitForDebuggerOnStart=True, flatten=True)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=self.width,
            height=self.height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def close(self) -> None:
        if self._ws is not None:
            try:
                self._ws.close()
            except Exception:  # the browser may already have dropped the socket
                pass
            self._ws = None
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
        shutil.rmtree(self._profile, ignore_errors=True)

    # -- protocol -------------------------------------------------------------------------------
    def _handle_event(self, msg: dict[str, Any]) -> None:
        method = msg.get("method")
        params = msg.get("params", {})
        if method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
            self.request_frames.append((params["request"]["url"], str(params.get("frameId", ""))))
        elif method == "Target.attachedToTarget":
            # A frame in another process: it is held at its start until its requests are
            # recorded too, then let go.
            sid = str(params["sessionId"])
            self.frame_sessions[str(params["targetInfo"]["targetId"])] = sid
            for command in ("Network.enable", "Runtime.enable"):
                try:
                    self.send(command, session=sid)
                except RuntimeError:  # a kind of target without that domain (a worker)
                    pass
            if params.get("waitingForDebugger"):
                self.send("Runtime.runIfWaitingForDebugger", session=sid)
        elif method == "Target.detachedFromTarget":
            sid = str(params["sessionId"])
            self.frame_sessions = {f: x for f, x in self.frame_sessions.items() if x != sid}
        elif method == "Runtime.consoleAPICalled":
            self.console.append(
                " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            )
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.exceptions.append(str(details.get("exception", {}).get("description", details.get("text"))))

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send one CDP command (to the page, or to a frame's ``session``) and return its result.

        Events that arrive meanwhile are recorded; handling one may send commands of its own,
        so replies are kept by id until their sender asks.
        """
        self._msg_id += 1
        mid = self._msg_id
        message: dict[str, Any] = {"id": mid, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        self._ws.send(json.dumps(message))
        while mid not in self._replies:
            msg = json.loads(self._ws.recv())
            if "id" in msg:
                self._replies[int(msg["id"])] = msg
            else:
                self._handle_event(msg)
        reply = self._replies.pop(mid)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error'].get('message')}")
        return dict(reply.get("result", {}))

    def wait_event(self, name: str, timeout: float | None = None) -> dict[str, Any]:
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            self._ws.settimeout(max(0.1, deadline - time.monotonic()))
            msg = json.loads(self._ws.recv())
            self._handle_event(msg)
            if msg.get("method") == name:
                self._ws.settimeout(self.timeout)
                return dict(msg.get("params", {}))
        raise TimeoutError(name)

    def pump(self, seconds: float) -> None:
        """Read events for ``seconds`` (so requests made late are recorded too)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._ws.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                self._handle_event(json.loads(self._ws.recv()))
            except Exception:
                break
        self._ws.settimeout(self.timeout)

    def evaluate(self, expression: str, await_promise: bool = False, session: str | None = None) -> Any:
        """Evaluate JavaScript in the page (or in a frame's ``session``, see :meth:`frame_session`)
        and return its value (JSON-serialisable)."""
        res = self.send(
            "Runtime.evaluate",
            session=session,
            expression=expression,
            returnByValue=True,
            awaitPromise=await_promise,
        )
        if "exceptionDetails" in res:
            raise RuntimeError(
                f"page error: {res['exceptionDetails'].get('exception', {}).get('description')}"
            )
        return res.get("result", {}).get("value")

    # -- pages ----------------------------------------------------------------------------------
    def open(self, path: str | Path, ready: bool = True) -> float | None:
        """Open a local HTML file; with ``ready`` wait until the map is drawn and return the
        milliseconds from navigation start until then."""
        url = Path(path).resolve().as_uri()
        self.send("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired")
        if not ready:
            return None
        self.evaluate("window.netanalysisMap.ready", await_promise=True)
        return float(self.evaluate("window.netanalysisMap.readyAt"))

    def frame_session(self, timeout: float = 10.0) -> tuple[str, str]:
        """(frame id, session id) of the first frame that runs in a process of its own.

        A sandboxed iframe (a map shown in a notebook) is another origin, so the page around it
        cannot reach in; the DevTools protocol can, through the session Chromium attached to it.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.frame_sessions:
                frame = next(iter(self.frame_sessions))
                return frame, self.frame_sessions[frame]
            self.pump(0.05)
        raise TimeoutError("no frame of its own appeared in the page")

    def hover(self, x: float, y: float) -> None:
        """Move the mouse to page coordinates (CSS pixels)."""
        for dx in (3, 1, 0):  # vis-network reacts to movement, not to a pointer that appears
            self.send("Input.dispatchMouseEvent", type="mouseMoved", x=x + dx, y=y + dx, button="none")
            time.sleep(0.05)

    def screenshot(self, path: str | Path) -> Path:
        data = self.send("Page.captureScreenshot", format="png")["data"]
        out = Path(path)
        out.write_bytes(base64.b64decode(data))
        return out

    def node_position(self, node_id: str) -> tuple[float, float]:
        """Where a node is drawn, in page coordinates."""
        pos = self.evaluate(
            "(() => { const m = window.netanalysisMap; const id = " + json.dumps(node_id) + ";"
            "const p = m.network.getPositions([id])[id]; const d = m.network.canvasToDOM(p);"
            "const r = document.getElementById('net').getBoundingClientRect();"
            "return [d.x + r.left, d.y + r.top]; })()"
        )
        return float(pos[0]), float(pos[1])


def local_only(urls: list[str], page: str | Path) -> list[str]:
    """The requests that went anywhere other than the page itself, ``data:`` or ``about:``."""
    own = Path(page).resolve().as_uri()
    return [u for u in urls if u != own and not re.match(r"^(data|about|blob):", u)]
