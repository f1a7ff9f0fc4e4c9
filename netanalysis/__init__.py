"""netanalysis: find perpetrator groups that move victims across Dutch regions.

The public API used by notebooks, scripts and the command line. Data flows one way:
source files -> ``loaders`` -> graph store (``graphstore``) -> ``netanalysis`` -> maps, reports, CSV.

>>> import netanalysis as na
>>> store = na.open_store("graph.sqlite")                                  # doctest: +SKIP
>>> na.load(["exports/"], store, "sources.yaml", na.load_key("my.key"))    # doctest: +SKIP
>>> result = na.detect(na.read_analysis_graph(store), na.DetectionSettings())  # doctest: +SKIP

Public and internal
-------------------
Only the names in ``netanalysis.__all__`` are public and stable: reach them as ``na.<name>``
after ``import netanalysis as na``. Every module (``netanalysis.detect``, ``loaders.pipeline``,
``graphstore.neo4j_server``, ``synth`` ...) is internal, whether or not its name starts with an
underscore: modules may be split, moved or renamed between versions without notice, and a name
that is not in ``__all__`` may change or go. docs/api.md lists the public names by theme, and
``tests/test_public_api.py`` pins the list and checks that the notebooks and the code examples
in the docs import nothing else from the toolkit.

The analysis, map and report parts are imported on first use, so ``import netanalysis`` stays
light (matplotlib, igraph and WeasyPrint load only when needed).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__version__ = "0.1.0"

# public name -> "module" that defines it under the same name, or "module:attribute" when the
# public name differs from the one inside the module. Imported on first use.
_LAZY: dict[str, str] = {
    # errors
    "AccessRefused": "netanalysis.errors",
    "AuditWriteError": "netanalysis.errors",
    "ConfigError": "netanalysis.errors",
    "InputFileError": "netanalysis.errors",
    "NetanalysisError": "netanalysis.errors",
    "SchemaError": "netanalysis.errors",
    "StoreError": "netanalysis.errors",
    "StoreUnavailable": "netanalysis.errors",
    # keys
    "Pseudonymiser": "loaders.pseudonymise",
    "keygen": "loaders.pseudonymise",
    "load_key": "loaders.pseudonymise",
    # loading
    "LoadSummary": "loaders.pipeline",
    "SourceCounts": "loaders.pipeline",
    "assign_files": "loaders.read",
    "initial_import": "loaders.initial_import",
    "load": "loaders.pipeline",
    "load_mapping": "loaders.mapping",
    "read_records": "loaders.pipeline",
    # encoding for linkage across holders, and the hub that links encoded exports
    "EncodedExport": "loaders.hub",
    "EncodingSchema": "loaders.encode",
    "ExportSummary": "loaders.encode",
    "encode": "loaders.encode",
    "encode_records": "loaders.encode",
    "load_encoded": "loaders.hub",
    "read_export": "loaders.hub",
    # reference tables (CBS municipalities and regions)
    "municipalities": "loaders.reference",
    "municipality": "loaders.reference",
    "region_name": "loaders.reference",
    "region_of": "loaders.reference",
    "regions": "loaders.reference",
    "resolve_place": "loaders.reference",
    # graph stores and the toolkit's own Neo4j server
    "GraphSchema": "graphstore",
    "GraphSlice": "graphstore",
    "GraphStore": "graphstore",
    "load_schema": "graphstore",
    "neo4j_start": "graphstore.neo4j_server:start",
    "neo4j_status": "graphstore.neo4j_server:status",
    "neo4j_stop": "graphstore.neo4j_server:stop",
    "open_store": "graphstore",
    "store_from_env": "graphstore",
    "key_from_env": "loaders.pseudonymise",
    # detection and the analysis steps it runs
    "DetectionResult": "netanalysis.detect",
    "DetectionSettings": "netanalysis.detect",
    "EvidenceWeights": "netanalysis.projection",
    "GroupStability": "netanalysis.groups",
    "LeadWeights": "netanalysis.leads",
    "Move": "netanalysis.movement",
    "PriorityWeights": "netanalysis.detect",
    "attach_victims": "netanalysis.groups",
    "brokerage_roles": "netanalysis.keyplayers",
    "detect": "netanalysis.detect",
    "detect_store": "netanalysis.detect",
    "read_detection": "netanalysis.detect",
    # addresses and organisations: the crowded-address signal, hubs shared by groups
    "CrowdedAddressRule": "netanalysis.addresses",
    "crowded_address_leads": "netanalysis.addresses",
    "crowded_addresses": "netanalysis.addresses",
    "shared_hubs": "netanalysis.addresses",
    # groups over time: stable ids across runs, and what changed
    "Changes": "netanalysis.changes",
    "changes": "netanalysis.changes",
    "follow_groups": "netanalysis.lineage",
    "keep_groups": "netanalysis.lineage",
    "match_groups": "netanalysis.lineage",
    "read_merges": "netanalysis.merges",
    "read_splits": "netanalysis.merges",
    "disruption": "netanalysis.keyplayers",
    "find_groups": "netanalysis.groups",
    "find_leads": "netanalysis.leads",
    "fragmentation_if_removed": "netanalysis.keyplayers",
    "group_stability": "netanalysis.groups",
    "key_players": "netanalysis.keyplayers",
    "municipality_regions": "netanalysis.movement",
    "perpetrator_network": "netanalysis.projection",
    "person_moves": "netanalysis.movement",
    "read_analysis_graph": "netanalysis.graphs",
    "read_detection_graph": "netanalysis.graphs",
    "read_evidence_graph": "netanalysis.graphs",
    "read_report_graph": "netanalysis.graphs",
    "reliability_factor": "netanalysis.projection",
    "suspects": "netanalysis.projection",
    # investigation: a known person, the network that connects persons
    "ConnectingNetwork": "netanalysis.connect",
    "PersonMatch": "netanalysis.find",
    "connecting_network": "netanalysis.connect",
    "find_person": "netanalysis.find",
    "record_persons": "netanalysis.persons",
    # any network from elsewhere (CSV edge lists)
    "NetworkAnalysis": "netanalysis.analyse",
    "analyse_network": "netanalysis.analyse",
    "read_network": "netanalysis.analyse",
    # maps
    "NetworkMap": "netanalysis.maps",
    "connecting_map": "netanalysis.maps",
    "ego_map": "netanalysis.maps",
    "group_map": "netanalysis.maps",
    "region_map": "netanalysis.maps",
    # exports for other tools (Gephi, yEd, i2)
    "export_network": "netanalysis.export",
    "select_network": "netanalysis.export",
    # a group's timeline: the table and its figure
    "group_timeline": "netanalysis.timeline",
    "timeline_figure": "netanalysis.timeline_figure",
    # report
    "Period": "netanalysis.report",
    "Report": "netanalysis.report",
    "ReportSettings": "netanalysis.report",
    "build_report": "netanalysis.report",
    # how much memory a run may take
    "MemorySettings": "netanalysis.memory",
    # the audit log and the processing register
    "audit_session": "netanalysis.audit:session",
    "load_register": "netanalysis.purposes",
    "verify_audit_log": "netanalysis.audit:verify",
    # retention terms and erasure
    "ErasureResult": "netanalysis.retention",
    "apply_retention": "netanalysis.retention",
    "erase_records": "netanalysis.retention",
    "read_retention_policy": "netanalysis.retention",
    # evaluation, synthetic data and the demo
    "Evaluation": "netanalysis.evaluate",
    "SynthSummary": "synth",
    "evaluate": "netanalysis.evaluate",
    "generate": "synth",
    "run_pipeline": "netanalysis.demo",
}

__all__ = sorted(["__version__", *_LAZY])


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'netanalysis' has no attribute {name!r}")
    module, _, attribute = target.partition(":")
    try:
        value = getattr(importlib.import_module(module), attribute or name)
    except ImportError as exc:
        from netanalysis.extras import missing_extra

        raise (missing_extra(exc) or exc) from exc
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


class _PublicAPI(types.ModuleType):
    """The package as a module whose submodules never hide the public name they share.

    Importing ``netanalysis.detect`` (the module) makes Python bind it as the package attribute
    ``detect``, where ``na.detect`` must be the function. The binding is redirected to the
    public object, so ``na.detect`` is the function whatever was imported before; the modules
    stay reachable as ``from netanalysis.detect import ...`` (internal, see above).
    """

    def __setattr__(self, name: str, value: Any) -> None:
        target = _LAZY.get(name)
        if target is not None and isinstance(value, types.ModuleType):
            module, _, attribute = target.partition(":")
            if value.__name__ == module:
                value = getattr(value, attribute or name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _PublicAPI
