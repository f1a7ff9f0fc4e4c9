"""A map shown in a notebook, exported to HTML with nbconvert and opened offline in Chromium.

The notebook is executed for real (nbclient, the environment's python3 kernel), exported with
nbconvert's HTMLExporter, and the exported file is opened in headless Chromium with networking cut
off. The map sits in a sandboxed ``srcdoc`` iframe, which is another origin: the test reaches into
it through the DevTools session Chromium attaches to the frame.
"""

from __future__ import annotations

from pathlib import Path

import nbclient
import nbconvert
import nbformat
import pytest

from tests.browser import Chromium, local_only

pytestmark = pytest.mark.browser

CELL = """\
from netanalysis.maps import group_map
from netanalysis.maps._demo import demo_data
graph, result = demo_data(n_groups=2, seed=3)
m = group_map(graph, result, ["G001"])
print(len(m.nodes), len(m.edges))
m
"""


def _exported_notebook(tmp_path: Path) -> tuple[Path, int, int]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CELL)]
    nbclient.NotebookClient(nb, timeout=180, kernel_name="python3").execute()
    outputs = nb.cells[0].outputs
    printed = next(o for o in outputs if o.get("output_type") == "stream")["text"].split()
    shown = next(o for o in outputs if o.get("output_type") == "execute_result")
    assert shown["data"]["text/html"].startswith("<iframe srcdoc=")
    body, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
    page = tmp_path / "notebook.html"
    page.write_text(body, encoding="utf-8")
    return page, int(printed[0]), int(printed[1])


def test_exported_notebook_draws_the_map_offline(tmp_path: Path) -> None:
    page, n_nodes, n_edges = _exported_notebook(tmp_path)
    with Chromium() as chrome:
        chrome.open(page, ready=False)
        frame, session = chrome.frame_session()
        drawn = chrome.evaluate(
            "window.netanalysisMap.ready.then(() => [window.netanalysisMap.nodeView.length,"
            " window.netanalysisMap.edgeView.length])",
            await_promise=True,
            session=session,
        )
        assert drawn == [n_nodes, n_edges]
        # The canvas really has pixels on it, not just a network object in memory.
        painted = chrome.evaluate(
            "(() => { const c = document.querySelector('#net canvas');"
            " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
            " let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; })()",
            session=session,
        )
        assert painted > 5000
        # The page around it cannot reach in: the frame is sandboxed without its origin.
        reach = chrome.evaluate(
            "(() => { try { return String(document.querySelector('iframe').contentDocument); }"
            " catch (e) { return 'blocked'; } })()"
        )
        assert reach in {"blocked", "null"}
        chrome.pump(0.5)
        assert chrome.exceptions == []
        from_map = [url for url, f in chrome.request_frames if f == frame]
        assert local_only(from_map, page) == []
        # nbconvert's own template asks for require.js and MathJax on a CDN; offline those fail
        # and the map, which needs neither, is drawn all the same.
        others = local_only(chrome.requests, page)
        assert all("cdnjs.cloudflare.com" in url for url in others)
