"""netanalysis: find perpetrator groups that move victims across Dutch regions.

The public API used by notebooks and the command line. Data flows one way:
source files -> ``loaders`` -> graph store (``graphstore``) -> ``netanalysis`` -> maps, reports, CSV.

>>> import netanalysis as na
>>> store = na.open_store("graph.sqlite")                                  # doctest: +SKIP
>>> na.load(["exports/"], store, "sources.yaml", na.load_key("my.key"))    # doctest: +SKIP
>>> result = na.detect(na.read_analysis_graph(store), na.DetectionSettings())  # doctest: +SKIP

The analysis, map and report parts are imported on first use, so ``import netanalysis`` stays
light (matplotlib, igraph and WeasyPrint load only when needed).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it (imported lazily)
_LAZY: dict[str, str] = {
    "ConfigError": "netanalysis.errors",
    "GraphSlice": "graphstore",
    "GraphStore": "graphstore",
    "InputFileError": "netanalysis.errors",
    "NetanalysisError": "netanalysis.errors",
    "SchemaError": "netanalysis.errors",
    "StoreError": "netanalysis.errors",
    "StoreUnavailable": "netanalysis.errors",
    "open_store": "graphstore",
    "DetectionResult": "netanalysis.detect",
    "DetectionSettings": "netanalysis.detect",
    "EvidenceWeights": "netanalysis.projection",
    "LeadWeights": "netanalysis.leads",
    "Period": "netanalysis.report",
    "ReportSettings": "netanalysis.report",
    "build_report": "netanalysis.report",
    "detect": "netanalysis.detect",
    "disruption": "netanalysis.keyplayers",
    "ego_map": "netanalysis.maps",
    "evaluate": "netanalysis.evaluate",
    "find_leads": "netanalysis.leads",
    "generate": "synth",
    "group_map": "netanalysis.maps",
    "initial_import": "loaders.initial_import",
    "key_players": "netanalysis.keyplayers",
    "keygen": "loaders.pseudonymise",
    "load": "loaders.pipeline",
    "load_key": "loaders.pseudonymise",
    "load_mapping": "loaders.mapping",
    "read_analysis_graph": "netanalysis.graphs",
    "region_map": "netanalysis.maps",
    "run_pipeline": "netanalysis.demo",
}

__all__ = sorted(["__version__", *_LAZY])


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'netanalysis' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
