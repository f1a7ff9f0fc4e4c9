"""The map object and its self-contained HTML page.

A :class:`NetworkMap` holds what is to be drawn (nodes, edges, legend, filter choices, title) as
plain data, and renders it into one HTML file: vis-network's script and style are inlined from
the copy that ships with pyvis, the data is embedded as JSON, and a Content-Security-Policy
forbids every request. Nothing is fetched when the page opens.
"""

from __future__ import annotations

import html
import importlib.util
import json
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from netanalysis.audit import audited, record_written
from netanalysis.errors import ConfigError

__all__ = ["VIS_VERSION", "NetworkMap", "embed_json"]

VIS_VERSION = "9.1.2"
_HERE = Path(__file__).resolve().parent

# default-src 'none' blocks every fetch (scripts, styles, images, fonts, XHR, frames) that is not
# explicitly allowed below; scripts must carry the page's nonce, so markup smuggled in through
# data could not run even if it ever reached the DOM.
_CSP = (
    "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; "
    "img-src data:; font-src data:; base-uri 'none'; form-action 'none'"
)


def embed_json(value: Any) -> str:
    """JSON that is safe inside a ``<script type="application/json">`` element.

    ``<``, ``>`` and ``&`` are written as ``\\u003c`` etc., so no ``</script>`` or ``<!--`` can
    end the element early; U+2028/U+2029 are escaped because older JavaScript parsers treat them
    as line breaks.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for raw, esc in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, esc)
    return text


def _inline_script(code: str) -> str:
    # A literal "</script" would end the element; "<\/script" means the same inside JS strings
    # and regular expressions, the only places it can occur in valid code.
    return code.replace("</script", "<\\/script").replace("<!--", "<\\!--")


@lru_cache(maxsize=1)
def _vis_assets() -> tuple[str, str]:
    """vis-network's minified JS and CSS, from the copy inside the installed pyvis package."""
    spec = importlib.util.find_spec("pyvis")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for loc in locations:
        lib = Path(loc) / "lib" / f"vis-{VIS_VERSION}"
        js, css = lib / "vis-network.min.js", lib / "vis-network.css"
        if js.is_file() and css.is_file():
            return js.read_text(encoding="utf-8"), css.read_text(encoding="utf-8")
    raise ConfigError(
        f"vis-network {VIS_VERSION} was not found in the pyvis package; "
        "install the toolkit's dependencies again (pip install -e .)"
    )


@lru_cache(maxsize=1)
def _template() -> tuple[str, str]:
    return (
        (_HERE / "template.html").read_text(encoding="utf-8"),
        (_HERE / "map.js").read_text(encoding="utf-8"),
    )


@dataclass
class NetworkMap:
    """An interactive network map: what is drawn, and how to render it as one offline HTML page.

    Attributes
    ----------
    title, subtitle
        What is shown, and from which data and date.
    nodes, edges
        vis-network items as plain dicts (``id``, ``label``, ``color``, ...). ``tip`` holds the
        tooltip as ``[name, value]`` rows (rendered as text, never as HTML); ``f`` holds the
        values the page filters on (``regions``, ``groups``, ``types``, ``first``, ``last``).
    legend
        Sections ``{"title": str, "items": [{"kind": "node"|"edge", "color": ..., "text": ...}]}``.
    filters
        Choices for the filter menus: ``{"regions"|"groups"|"types": [[value, text], ...]}``.
    options
        vis-network options (physics, layout, interaction).
    notice
        A message shown above the map, e.g. that the graph was aggregated.
    view
        ``"group"``, ``"region"`` or ``"ego"``.
    aggregated
        True when the map shows groups (or other aggregates) instead of single persons.
    """

    title: str
    subtitle: str
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    legend: list[dict[str, Any]] = field(default_factory=list)
    filters: dict[str, list[list[str]]] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    notice: str = ""
    view: str = ""
    aggregated: bool = False

    def data(self) -> dict[str, Any]:
        """Everything the page needs, as JSON-ready data."""
        filters = {k: self.filters.get(k, []) for k in ("regions", "groups", "types")}
        return {
            "title": self.title,
            "subtitle": self.subtitle,
            "notice": self.notice,
            "view": self.view,
            "nodes": self.nodes,
            "edges": self.edges,
            "legend": self.legend,
            "filters": filters,
            "options": self.options,
        }

    def html(self, *, csp: bool = True) -> str:
        """The map as one self-contained HTML page (every script and style inlined).

        ``csp=False`` leaves out the Content-Security-Policy; only tests use it, to show that the
        escaping alone keeps data from running as script.
        """
        page, map_js = _template()
        vis_js, vis_css = _vis_assets()
        nonce = secrets.token_urlsafe(18)
        # Replaced one at a time, data last, so nothing in the data can be read as a placeholder.
        if csp:
            page = page.replace("@@CSP@@", _CSP.format(nonce=nonce))
        else:
            page = "\n".join(line for line in page.split("\n") if "@@CSP@@" not in line)
        page = page.replace("@@TITLE@@", html.escape(self.title))
        page = page.replace("@@NONCE@@", nonce)
        page = page.replace("@@VIS_CSS@@", vis_css.replace("</style", "<\\/style"))
        page = page.replace("@@MAP_JS@@", _inline_script(map_js))
        head, tail = page.split("@@VIS_JS@@")
        head = head.replace("@@DATA@@", embed_json(self.data()))
        return head + _inline_script(vis_js) + tail

    @audited("map", after=record_written)
    def save(self, path: str | Path) -> Path:
        """Write the page to ``path`` (UTF-8) and return the path."""
        out = Path(path)
        if out.parent and not out.parent.exists():
            raise ConfigError(f"the folder {out.parent} does not exist; create it or choose another --out")
        out.write_text(self.html(), encoding="utf-8")
        return out

    def _repr_html_(self) -> str:
        # An iframe with srcdoc keeps the page's scripts and policy apart from the notebook, and
        # works in JupyterLab, classic Notebook and VS Code, none of which run scripts put
        # directly into an output cell the same way.
        doc = html.escape(self.html(), quote=True)
        return (
            f'<iframe srcdoc="{doc}" style="width:100%;height:640px;border:1px solid #ddd" '
            'sandbox="allow-scripts" title="netanalysis map"></iframe>'
        )

    def __repr__(self) -> str:
        return f"NetworkMap(view={self.view!r}, nodes={len(self.nodes)}, edges={len(self.edges)})"
