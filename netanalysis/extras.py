"""Optional parts of the toolkit and the extra that installs each one.

The core install (``pip install netanalysis``) loads, detects, draws maps and writes the report's
HTML, CSV tables and figures. A few parts need more, installed as an extra:

============  =========================================  ======================================
extra         what it adds                               packages
============  =========================================  ======================================
report        the report as PDF and its Parquet tables   weasyprint (with Pango), pyarrow
jupyter       running the notebooks                      jupyter, ipykernel, nbclient, nbformat
maps-test     driving the maps in headless Chromium      websocket-client
all           every extra above but ``maps-test``
============  =========================================  ======================================

:func:`require` imports an optional module or raises :class:`~netanalysis.errors.ConfigError`
with one sentence that names the extra; :func:`missing_extra` turns an ``ImportError`` met
anywhere into that sentence, for the command line and the public API's lazy names.

Examples
--------
>>> require("json", "report", "the report").__name__
'json'
>>> try:
...     require("nowhere", "report", "the PDF")
... except ConfigError as exc:
...     print(exc)
the PDF needs nowhere, which is not installed: pip install 'netanalysis[report]'
"""

from __future__ import annotations

import importlib
import types

from netanalysis.errors import ConfigError

__all__ = ["OPTIONAL", "missing_extra", "require"]

# top-level module -> (extra that installs it, what it is for)
OPTIONAL: dict[str, tuple[str, str]] = {
    "weasyprint": ("report", "the report's PDF"),
    "pyarrow": ("report", "the report's Parquet tables"),
    "nbclient": ("jupyter", "running notebooks"),
    "nbformat": ("jupyter", "running notebooks"),
    "ipykernel": ("jupyter", "running notebooks"),
    "websocket": ("maps-test", "driving the maps in a browser"),
}


def _sentence(module: str, extra: str, what: str) -> str:
    return f"{what} needs {module}, which is not installed: pip install 'netanalysis[{extra}]'"


def require(module: str, extra: str, what: str) -> types.ModuleType:
    """Import ``module``, or raise ConfigError naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(_sentence(module, extra, what)) from exc


def missing_extra(exc: ImportError) -> ConfigError | None:
    """The one-sentence error for an import of an optional module that failed, else None."""
    name = (exc.name or "").partition(".")[0]
    if name not in OPTIONAL:
        return None
    extra, what = OPTIONAL[name]
    return ConfigError(_sentence(name, extra, what))
