"""netanalysis: find perpetrator groups that move victims across Dutch regions.

The public API used by notebooks and the command line. Data flows one way:
source files -> ``loaders`` -> graph store (``graphstore``) -> ``netanalysis`` -> maps, reports, CSV.
"""

from graphstore import GraphSlice, GraphStore, NetanalysisError, open_store

__version__ = "0.1.0"

__all__ = ["GraphSlice", "GraphStore", "NetanalysisError", "__version__", "open_store"]
