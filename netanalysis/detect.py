"""The detection pipeline: perpetrator network -> groups -> victims and their moves -> key players
-> leads, as one ``DetectionResult`` of plain tables.

>>> from netanalysis.detect import DetectionSettings, detect
>>> result = detect(graph, DetectionSettings(level="police_unit", seed=1))  # doctest: +SKIP
>>> result.write("out/")                                                      # doctest: +SKIP

Every output file, column and rule is documented in ``docs/detection.md``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import time
import types
import typing
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

import networkx as nx
import pandas as pd

from graphstore.base import LATEST_OBSERVED_ATTR, GraphStore, ProvenanceRows
from netanalysis import keyplayers
from netanalysis.addresses import (
    CROWDED_COLUMNS,
    HUB_COLUMNS,
    CrowdedAddressRule,
    crowded_address_leads,
    shared_hubs,
)
from netanalysis.audit import audited, record_detection, record_written
from netanalysis.errors import ConfigError
from netanalysis.graphs import (
    PROVENANCE_ATTR,
    GraphIndex,
    GroupReader,
    check_iso_date,
    collector_spares_the_heap,
    index_graph,
)
from netanalysis.groups import METHODS, attach_victims, find_groups, group_stability
from netanalysis.indatabase import ENGINES, check_engine
from netanalysis.keyplayers import DISRUPTION_COLUMNS, KEY_PLAYER_COLUMNS
from netanalysis.leads import LEAD_COLUMNS, find_leads
from netanalysis.movement import (
    bare_key,
    check_level,
    moves_from_observations,
    municipality_regions,
    node_label,
    observations,
)
from netanalysis.projection import EvidenceWeights, perpetrator_network

__all__ = [
    "COLUMNS",
    "STAGES",
    "DetectionResult",
    "DetectionSettings",
    "PriorityWeights",
    "detect",
    "detect_store",
    "priority",
    "read_detection",
]

# Keys that ``detect`` adds to the settings it records in settings.json: facts about the run, not
# settings, so ``DetectionSettings.from_dict`` accepts and ignores them.
RECORDED_KEYS = frozenset({"netanalysis_version", "network", "lineage", "store"})

# The fixed output contract: file stem -> columns, in order.
COLUMNS: dict[str, list[str]] = {
    "groups": ["group_id", "person_id", "role", "core", "stability"],
    "persons": ["person_id", "source", "row_id"],
    "movements": [
        "group_id",
        "person_id",
        "from_code",
        "to_code",
        "from_region",
        "to_region",
        "date",
        "cross_region",
    ],
    "group_summary": [
        "group_id",
        "members",
        "victims",
        "regions",
        "n_regions",
        "moves",
        "cross_region_moves",
        "cross_regional",
        "exploitation_types",
        "first_seen",
        "last_seen",
        "stability",
        "priority",
        "priority_reasons",
    ],
    # The key-player, disruption and lead columns are owned by the modules that compute them.
    "key_players": list(KEY_PLAYER_COLUMNS),
    "disruption": list(DISRUPTION_COLUMNS),
    "leads": list(LEAD_COLUMNS),
    "links": ["group_id", "person_a", "person_b", "weight", "kinds", "evidence_items"],
    "signal_rows": ["signal_id", "source", "row_id"],
    # Addresses and organisations (issue 20), owned by netanalysis.addresses.
    "crowded_addresses": list(CROWDED_COLUMNS),
    "hubs": list(HUB_COLUMNS),
}


@dataclass
class PriorityWeights:
    """Points behind the priority score of a group (``priority``; ``docs/detection.md``)."""

    cross_regional: float = 3.0
    per_region: float = 0.5
    per_victim: float = 1.0
    max_victims: int = 5
    minor_victims: float = 3.0
    per_extra_member: float = 0.25
    max_members: int = 9
    recent: float = 2.0
    recent_half_life_days: float = 365.0


@dataclass
class DetectionSettings:
    """Everything the detection depends on, in one object (embedded in every output).

    Attributes
    ----------
    weights : EvidenceWeights
        Evidence weights of the perpetrator network.
    method : {"leiden", "louvain"}
        Community detection method.
    seed : int
        Seed of the community detection and the stability re-runs.
    resolution : float
        Resolution of the community detection (higher: smaller groups).
    level : {"police_unit", "safety_region", "province"}
        Region level for regions, moves and brokerage.
    date_from, date_to : str, optional
        ISO dates of the window the graph was read for (informational here: ``detect`` works on
        the graph it is given; ``read_analysis_graph`` applies the window).
    as_of : str, optional
        Reference date for recency; default the latest observation in the graph.
    stability_runs : int
        Re-runs for the stability figure (0: skip, every group gets stability 1).
    stability_drop : float
        Share of evidence links left out in each stability re-run.
    priority_weights : PriorityWeights
        Points behind the priority score.
    betweenness_k : int, optional
        Sample size (source persons) for betweenness in key players and in the disruption
        simulation of groups larger than ``betweenness_exact_max`` (None: always exact).
    betweenness_exact_max : int
        Groups up to this many suspects get exact betweenness. Exact (igraph, C) is faster than
        sampled (networkx) below about 10,000 members and costs minutes above 20,000; the error
        of sampling is in docs/key-players-and-leads.md.
    crowded : CrowdedAddressRule
        When an address counts as crowded (many persons registered at the same time).
    engine : {"local", "gds"}
        Where the perpetrator network, the groups and the betweenness of the key players are
        computed: in Python (``local``), or inside the Neo4j server the graph was read from, with
        the Graph Data Science library (``gds``; ``detect`` then needs that store, and the
        betweenness is always exact). See docs/detection.md.
    """

    weights: EvidenceWeights = field(default_factory=EvidenceWeights)
    method: str = "leiden"
    seed: int = 0
    resolution: float = 1.0
    level: str = "police_unit"
    date_from: str | None = None
    date_to: str | None = None
    as_of: str | None = None
    stability_runs: int = 10
    stability_drop: float = 0.1
    priority_weights: PriorityWeights = field(default_factory=PriorityWeights)
    betweenness_k: int | None = 300
    betweenness_exact_max: int = 10_000
    crowded: CrowdedAddressRule = field(default_factory=CrowdedAddressRule)
    engine: str = "local"

    def validate(self) -> DetectionSettings:
        """Check the settings; raise ConfigError with what to change."""
        check_level(self.level)
        if self.method not in METHODS:
            raise ConfigError(f"unknown group method {self.method!r}; use one of {', '.join(METHODS)}.")
        if self.engine not in ENGINES:
            raise ConfigError(f"unknown engine {self.engine!r}; use one of {', '.join(ENGINES)}.")
        if self.resolution <= 0:
            raise ConfigError(f"resolution must be above 0, got {self.resolution}.")
        if self.stability_runs < 0:
            raise ConfigError(f"stability runs must be 0 or more, got {self.stability_runs}.")
        if self.betweenness_k is not None and self.betweenness_k < 2:
            raise ConfigError(
                f"betweenness_k must be at least 2, got {self.betweenness_k}; None gives exact values."
            )
        if self.betweenness_exact_max < 2:
            raise ConfigError(f"betweenness_exact_max must be at least 2, got {self.betweenness_exact_max}.")
        check_iso_date(self.date_from, "date_from")
        check_iso_date(self.date_to, "date_to")
        check_iso_date(self.as_of, "as_of")
        self.crowded.validate()
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable dict; ``from_dict`` turns it back into the same settings."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "the settings") -> DetectionSettings:
        """Settings from a dict as written by ``to_dict`` or in a detection's ``settings.json``.

        Keys left out keep their defaults; the run facts ``detect`` records beside the settings
        (``netanalysis_version``, ``network``, ``lineage``, ``store``) are ignored. ``as_of`` in a
        ``settings.json`` is the reference date the run used, so the same graph gives the same
        result again.

        Parameters
        ----------
        data : mapping
            Setting name -> value; ``weights`` and ``priority_weights`` are nested mappings.
        where : str
            What the dict came from, for error messages (e.g. the file name).

        Returns
        -------
        DetectionSettings
            Not yet validated (call ``validate``).

        Raises
        ------
        ConfigError
            An unknown key or a value of the wrong type, named in one sentence.

        Examples
        --------
        >>> s = DetectionSettings(seed=3, level="province")
        >>> DetectionSettings.from_dict(s.to_dict()) == s
        True
        >>> DetectionSettings.from_dict({"sede": 3})
        Traceback (most recent call last):
        ...
        netanalysis.errors.ConfigError: unknown setting 'sede' in the settings; known: weights, ...
        """
        known = {k: v for k, v in data.items() if k not in RECORDED_KEYS}
        settings: DetectionSettings = _from_dict(cls, known, where, "")
        return settings

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> DetectionSettings:
        """Settings from a JSON file such as the ``settings.json`` that ``DetectionResult.write``
        writes (see ``from_dict``); a missing or malformed file is a ConfigError."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read the settings file {path}: {exc.strerror}") from None
        except ValueError as exc:
            raise ConfigError(f"the settings file {path} is not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"the settings file {path} does not hold a JSON object of settings")
        return cls.from_dict(data, where=str(path))


_JSON_TYPES = {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}


def _check_value(kind: Any, value: Any, where: str, name: str) -> Any:
    """``value`` as the type hint ``kind`` asks for (an int is fine for a float), else ConfigError."""
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        if not isinstance(value, Mapping):
            raise ConfigError(f"setting '{name}' in {where} must be an object of settings, got {value!r}")
        return _from_dict(kind, value, where, f"{name}.")
    origin = typing.get_origin(kind)
    if origin in (types.UnionType, typing.Union):
        options = typing.get_args(kind)
        if value is None and type(None) in options:
            return None
        kind = next(k for k in options if k is not type(None))
        origin = typing.get_origin(kind)
    if origin is list:
        (item_kind,) = typing.get_args(kind)
        if not isinstance(value, list):
            raise ConfigError(f"setting '{name}' in {where} must be a list, got {value!r}")
        return [_check_value(item_kind, v, where, f"{name}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        key_kind, value_kind = typing.get_args(kind)
        if not isinstance(value, Mapping):
            raise ConfigError(f"setting '{name}' in {where} must be an object, got {value!r}")
        return {
            _check_value(key_kind, k, where, name): _check_value(value_kind, v, where, f"{name}.{k}")
            for k, v in value.items()
        }
    # bool is an int in Python but never a number in a settings file.
    ok = isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not ok:
        raise ConfigError(
            f"setting '{name}' in {where} must be {_JSON_TYPES.get(kind, kind.__name__)}, got {value!r}"
        )
    return value


def _from_dict(cls: type[Any], data: Mapping[str, Any], where: str, prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in names:
            raise ConfigError(f"unknown setting '{prefix}{key}' in {where}; known: {', '.join(names)}")
    return cls(**{k: _check_value(hints[k], v, where, f"{prefix}{k}") for k, v in data.items()})


@dataclass
class DetectionResult:
    """The detection outputs: one DataFrame per CSV file (columns in ``COLUMNS``)."""

    groups: pd.DataFrame
    persons: pd.DataFrame
    movements: pd.DataFrame
    group_summary: pd.DataFrame
    key_players: pd.DataFrame
    disruption: pd.DataFrame
    leads: pd.DataFrame
    links: pd.DataFrame
    signal_rows: pd.DataFrame
    #: Crowded addresses, each with the groups whose persons are registered there (a lead).
    crowded_addresses: pd.DataFrame
    #: Addresses and organisations shared by several groups.
    hubs: pd.DataFrame
    settings: dict[str, Any]
    level: str
    network: nx.Graph | None = field(default=None, repr=False, compare=False)
    timings: dict[str, float] = field(default_factory=dict, repr=False, compare=False)
    #: Group lineage (``netanalysis.lineage.follow_groups``), written as ``lineage.csv`` when set.
    lineage: pd.DataFrame | None = field(default=None, repr=False)

    def frames(self) -> dict[str, pd.DataFrame]:
        """File stem -> DataFrame."""
        return {name: getattr(self, name) for name in COLUMNS}

    @audited("detect", after=record_written)
    def write(self, out_dir: str | Path) -> list[Path]:
        """Write one CSV per frame (UTF-8, comma, header) and ``settings.json``; returns the paths.

        Text cells that a spreadsheet would run as a formula (source names and row ids come from
        the exports) are prefixed with ``'`` by :func:`loaders.csv_safety.guard_frame`;
        :func:`loaders.csv_safety.unguard_cell` gives the value back.
        """
        from loaders.csv_safety import guard_frame, write_frames

        out = Path(out_dir)
        paths = write_frames(self.frames(), out)
        if self.lineage is not None:
            path = out / "lineage.csv"
            guard_frame(self.lineage).to_csv(path, index=False, lineterminator="\n")
            paths.append(path)
        path = out / "settings.json"
        path.write_text(json.dumps(self.settings, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        paths.append(path)
        return paths


# The columns that are not text, by frame: a CSV holds text, and ``read_detection`` gives these
# their types back (tests/test_report_detection.py checks them against a fresh detection).
_TYPED: dict[str, dict[str, str]] = {
    "groups": {"core": "bool", "stability": "float64"},
    "movements": {"cross_region": "bool"},
    "group_summary": {
        **dict.fromkeys(("members", "victims", "n_regions", "moves", "cross_region_moves"), "int64"),
        "cross_regional": "bool",
        "stability": "float64",
        "priority": "float64",
    },
    "key_players": {
        **dict.fromkeys(("degree", "coordinator", "gatekeeper", "representative"), "int64"),
        **dict.fromkeys(("liaison", "itinerant", "brokerage", "rank"), "int64"),
        **dict.fromkeys(("weighted_degree", "betweenness", "fragmentation_if_removed"), "float64"),
    },
    "disruption": {"removed": "int64", "components": "int64", "largest_share": "float64"},
    "leads": {"score": "float64", "rank": "int64", "via": "int64"},
    "links": {"weight": "float64", "evidence_items": "int64"},
    "crowded_addresses": dict.fromkeys(("persons", "registered", "group_persons"), "int64"),
    "hubs": {"n_groups": "int64", "persons": "int64"},
}


def read_detection(folder: str | Path, flag: str = "--detection") -> DetectionResult:
    """A detection as ``netanalysis detect`` (``DetectionResult.write``) wrote it to ``folder``.

    Every frame gets its columns' types back (counts as integers, scores as floats, flags as
    booleans) and its cells their text (``loaders.csv_safety.unguard_frame``), so the frames equal
    those of the run that wrote them; ``settings`` is its ``settings.json`` (the settings used and
    what the run recorded: reference date, network size, lineage, the store's state).

    Parameters
    ----------
    folder : str or Path
        The detection folder.
    flag : str
        How the caller names the folder in error messages (``--detection``, ``--previous``).

    Returns
    -------
    DetectionResult
        Without the network and the timings, which a folder does not hold.

    Raises
    ------
    ConfigError
        The folder is not a detection folder, or one of another version of netanalysis (one
        sentence, no cell values).

    Examples
    --------
    >>> result = read_detection("out/")          # doctest: +SKIP
    >>> result.group_summary["members"].sum()    # doctest: +SKIP
    """
    from loaders.csv_safety import unguard_frame

    path = Path(folder)
    missing = [f"{name}.csv" for name in COLUMNS if not (path / f"{name}.csv").is_file()]
    if not (path / "settings.json").is_file():
        missing.append("settings.json")
    if missing:
        raise ConfigError(
            f"{flag} {path} is not a detection folder of netanalysis detect --out "
            f"(it lacks {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''})"
        )
    frames: dict[str, pd.DataFrame] = {}
    try:
        settings = json.loads((path / "settings.json").read_text(encoding="utf-8"))
        for name, columns in COLUMNS.items():
            frame = unguard_frame(pd.read_csv(path / f"{name}.csv", dtype=str, keep_default_na=False))
            if list(frame.columns) != columns:
                raise ConfigError(
                    f"{flag} {path} was written by another version of netanalysis ({name}.csv has "
                    "other columns); run netanalysis detect again"
                )
            for column, kind in _TYPED.get(name, {}).items():
                if kind == "bool":
                    values = frame[column].map({"True": True, "False": False})
                    if values.isna().any():
                        raise ValueError(f"{name}.csv: {column} is not True or False")
                    frame[column] = values.astype(bool)
                else:
                    frame[column] = frame[column].astype(kind)
            frames[name] = frame
        lineage = None
        if (path / "lineage.csv").is_file():
            lineage = pd.read_csv(path / "lineage.csv", dtype=str, keep_default_na=False)
    except ConfigError:
        raise
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(
            f"{flag} {path} cannot be read as a detection ({type(exc).__name__}); run netanalysis "
            "detect again"
        ) from None
    if not isinstance(settings, dict) or not isinstance(settings.get("level"), str):
        raise ConfigError(f"{flag} {path} has a settings.json of another version of netanalysis")
    return DetectionResult(**frames, settings=settings, level=settings["level"], lineage=lineage)


def _frame(name: str, rows: list[dict[str, Any]] | pd.DataFrame | None) -> pd.DataFrame:
    frame = pd.DataFrame(rows) if not isinstance(rows, pd.DataFrame) else rows
    for column in COLUMNS[name]:
        if column not in frame.columns:
            frame[column] = pd.Series(dtype="object")
    return frame[COLUMNS[name]].reset_index(drop=True)


def priority(
    summary: Mapping[str, Any], minors: int, as_of: str | None, weights: PriorityWeights
) -> tuple[float, str]:
    """Priority score of a group and the reasons behind it.

    Points: cross-regional (``cross_regional`` plus ``per_region`` for each region beyond the
    first), ``per_victim`` per victim (at most ``max_victims``), ``minor_victims`` when a victim was
    under 18 when first seen, ``per_extra_member`` per suspect beyond the first (at most
    ``max_members``), and ``recent`` halved every ``recent_half_life_days`` between the group's
    last observation and ``as_of``. The sum is multiplied by ``0.5 + 0.5 x stability``, so a
    group that falls apart on re-runs ranks lower.

    Returns
    -------
    (float, str)
        The score (3 decimals) and the reasons as ``"; "``-joined text.

    Examples
    --------
    >>> s = {"cross_regional": True, "n_regions": 2, "victims": 2, "members": 3,
    ...      "last_seen": "2024-01-01", "stability": 1.0}
    >>> priority(s, 0, "2024-01-01", PriorityWeights())
    (8.0, 'cross-regional, 2 regions +3.5; 2 victims +2.0; 3 suspects +0.5; last seen 2024-01-01 +2.0')
    """
    score = 0.0
    reasons = []
    if summary["cross_regional"]:
        points = weights.cross_regional + weights.per_region * max(int(summary["n_regions"]) - 1, 0)
        score += points
        reasons.append(f"cross-regional, {summary['n_regions']} regions +{points:.1f}")
    if summary["victims"]:
        points = weights.per_victim * min(int(summary["victims"]), weights.max_victims)
        score += points
        reasons.append(f"{summary['victims']} victims +{points:.1f}")
    if minors:
        score += weights.minor_victims
        reasons.append(f"{minors} minor victims +{weights.minor_victims:.1f}")
    extra = min(max(int(summary["members"]) - 1, 0), weights.max_members)
    if extra:
        points = weights.per_extra_member * extra
        score += points
        reasons.append(f"{summary['members']} suspects +{points:.1f}")
    if summary.get("last_seen") and as_of:
        age = (dt.date.fromisoformat(as_of) - dt.date.fromisoformat(str(summary["last_seen"]))).days
        points = weights.recent * 0.5 ** (max(age, 0) / weights.recent_half_life_days)
        score += points
        reasons.append(f"last seen {summary['last_seen']} +{points:.1f}")
    stability = float(summary.get("stability", 1.0))
    if stability < 1.0:
        reasons.append(f"stability {stability:.2f} x{0.5 + 0.5 * stability:.2f}")
    score *= 0.5 + 0.5 * stability
    return round(score, 3), "; ".join(reasons)


def _persons_frame(graph: nx.MultiDiGraph, index: GraphIndex) -> pd.DataFrame:
    provenance: ProvenanceRows | None = graph.graph.get(PROVENANCE_ATTR)
    if provenance is not None:  # a detection graph: the store read the records for us
        described = provenance.person_rows
    else:
        described = []
        for u, v, _ in index.of("DESCRIBES"):
            record = graph.nodes[u]
            described.append((bare_key(v), bare_key(u), record.get("source"), record.get("row_id")))
    rows = []
    for person, record_key, source, row_id in described:
        if source is None or row_id is None:
            source, _, row_id = record_key.partition(":")
        rows.append({"person_id": person, "source": str(source), "row_id": str(row_id)})
    frame = _frame("persons", rows)
    return frame.drop_duplicates().sort_values(["person_id", "source", "row_id"]).reset_index(drop=True)


def _signal_rows_frame(graph: nx.MultiDiGraph, index: GraphIndex) -> pd.DataFrame:
    # A signal can come from several source rows (an inspection with several workers found); its
    # facts (CONCERNS, AT) carry the rows they came from.
    provenance: ProvenanceRows | None = graph.graph.get(PROVENANCE_ATTR)
    rows = set()
    if provenance is not None:  # a detection graph: the store read the rows for us
        rows.update(provenance.signal_rows)
    else:
        for edges in index.all_edges():
            for u, _, data in edges:
                if u.startswith("Signal:") and data.get("row_id") is not None and data.get("source"):
                    rows.add((bare_key(u), str(data["source"]), str(data["row_id"])))
    frame = _frame("signal_rows", [dict(zip(COLUMNS["signal_rows"], r, strict=True)) for r in sorted(rows)])
    return frame


@dataclass
class _MemberFacts:
    """What the moves, dates, exploitation types and minors of the groups read of their persons."""

    #: Person node id -> dated municipality codes (``movement.observations``).
    obs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    #: Group id -> first and last ``observed_on`` of its persons' facts.
    first: dict[str, str] = field(default_factory=dict)
    last: dict[str, str] = field(default_factory=dict)
    #: Group id -> exploitation types of the cases its persons are in.
    types: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    #: Victim node id -> birth year.
    births: dict[str, Any] = field(default_factory=dict)

    def add(
        self,
        graph: nx.MultiDiGraph,
        index: GraphIndex,
        persons: Collection[str],
        node_group: Mapping[str, str],
        victims: Collection[str],
    ) -> None:
        """Fold in what ``graph`` says of ``persons``: it holds all their facts (it may hold
        those of other persons too: the dates and types are a minimum, a maximum and a union, so
        a fact met twice changes nothing)."""
        self.obs.update(observations(graph, persons, index))
        first, last, types = self.first, self.last, self.types
        # Thousands of facts end at one node: whether it is a case, and its type, looked up once.
        is_case: dict[Any, bool] = {}
        case_type: dict[Any, Any] = {}
        for rel, edges in index.edges.items():
            case_rel = rel in ("SUSPECT_IN", "VICTIM_IN")
            for u, v, data in edges:
                owner = node_group.get(u)
                if owner is None:
                    continue
                date = str(data.get("observed_on") or "")
                if date:
                    old = first.get(owner)
                    if old is None:
                        first[owner] = last[owner] = date
                    elif date < old:
                        first[owner] = date
                    elif date > last[owner]:
                        last[owner] = date
                if not case_rel:
                    case = is_case.get(v)
                    if case is None:
                        case = is_case[v] = node_label(graph, v) == "Case"
                    if not case:
                        continue
                if v in case_type:
                    kind = case_type[v]
                else:
                    kind = case_type[v] = graph.nodes[v].get("exploitation_type")
                if kind:
                    types[owner].add(str(kind))
        nodes = graph.nodes
        for victim in victims:
            if victim in nodes:
                self.births[victim] = nodes[victim].get("birth_year")


class _Steps(typing.Protocol):
    """Where the steps after the groups get their graph: one graph for all (``detect``) or a
    graph read for each step around the groups (``detect_store``)."""

    def victims(self, suspect_groups: Mapping[str, str]) -> dict[str, str]: ...
    def regions(self, level: str) -> dict[str, str]: ...
    def member_facts(self, node_group: Mapping[str, str], victims: Collection[str]) -> _MemberFacts: ...
    def leads(self, groups: Mapping[str, str]) -> pd.DataFrame: ...
    def crowded(self, groups: Mapping[str, str], rule: CrowdedAddressRule) -> list[dict[str, Any]]: ...
    def hubs(self, groups: Mapping[str, str]) -> list[dict[str, Any]]: ...
    def provenance_frames(self) -> tuple[pd.DataFrame, pd.DataFrame]: ...


@dataclass
class _GraphSteps:
    """Every step on the one graph ``detect`` was given."""

    graph: nx.MultiDiGraph
    index: GraphIndex

    def victims(self, suspect_groups: Mapping[str, str]) -> dict[str, str]:
        return attach_victims(self.graph, suspect_groups, self.index)

    def regions(self, level: str) -> dict[str, str]:
        return municipality_regions(self.graph, level, self.index)

    def member_facts(self, node_group: Mapping[str, str], victims: Collection[str]) -> _MemberFacts:
        facts = _MemberFacts()
        facts.add(self.graph, self.index, set(node_group), node_group, victims)
        return facts

    def leads(self, groups: Mapping[str, str]) -> pd.DataFrame:
        return find_leads(self.graph, groups)

    def crowded(self, groups: Mapping[str, str], rule: CrowdedAddressRule) -> list[dict[str, Any]]:
        return crowded_address_leads(self.graph, groups, rule, self.index)

    def hubs(self, groups: Mapping[str, str]) -> list[dict[str, Any]]:
        return shared_hubs(self.graph, groups, index=self.index)

    def provenance_frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        return _persons_frame(self.graph, self.index), _signal_rows_frame(self.graph, self.index)


@dataclass
class _StoreSteps:
    """Every step on a graph read for it around the groups (``graphs.GroupReader``), let go
    after the step: the same answers as on the detection graph, without holding it."""

    reader: GroupReader

    def victims(self, suspect_groups: Mapping[str, str]) -> dict[str, str]:
        graph = self.reader.victims_graph([bare_key(node) for node in suspect_groups])
        return attach_victims(graph, suspect_groups)

    def regions(self, level: str) -> dict[str, str]:
        return municipality_regions(self.reader.places(), level)

    def member_facts(self, node_group: Mapping[str, str], victims: Collection[str]) -> _MemberFacts:
        facts = _MemberFacts()
        for keys, graph in self.reader.member_graphs([bare_key(node) for node in node_group]):
            persons = [f"Person:{key}" for key in keys]
            facts.add(graph, index_graph(graph), persons, node_group, victims)
        return facts

    def leads(self, groups: Mapping[str, str]) -> pd.DataFrame:
        return find_leads(self.reader.leads_graph(list(groups)), groups)

    def crowded(self, groups: Mapping[str, str], rule: CrowdedAddressRule) -> list[dict[str, Any]]:
        return crowded_address_leads(self.reader.crowded_graph(rule.validate().min_persons), groups, rule)

    def hubs(self, groups: Mapping[str, str]) -> list[dict[str, Any]]:
        return shared_hubs(self.reader.hubs_graph(list(groups)), groups)

    def provenance_frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        graph = self.reader.provenance()
        index = index_graph(graph)
        return _persons_frame(graph, index), _signal_rows_frame(graph, index)


#: The stages of a detection, in order, as ``detect`` reports them to ``progress`` (the in-database
#: engine replaces the first two with ``network_and_groups_in_database``).
STAGES: tuple[str, ...] = (
    "network",
    "groups",
    "stability",
    "movements_and_summary",
    "key_players",
    "disruption",
    "leads",
    "addresses",
    "persons",
)


def _check_network(network: nx.Graph, settings: DetectionSettings, as_of: str | None) -> None:
    """A network given to ``detect`` must be the one its settings would make."""
    if settings.engine == "gds":
        raise ConfigError("--engine gds makes the perpetrator network in the database: do not pass network=.")
    if network.graph.get("level") != settings.level:
        raise ConfigError(
            f"the perpetrator network given was made at level {network.graph.get('level')!r}, the "
            f"settings ask for {settings.level!r}: make it at that level."
        )
    if as_of is not None and network.graph.get("as_of") != as_of:
        raise ConfigError(
            f"the perpetrator network given counts back from {network.graph.get('as_of')!r}, the "
            f"detection from {as_of!r}: make it with perpetrator_network(..., as_of=...) of that date."
        )


@audited("detect", store="graph", only_from_store=True, after=record_detection)
def detect(
    graph: nx.MultiDiGraph,
    settings: DetectionSettings | None = None,
    store: object = None,
    progress: Callable[[str, int, int | None], None] | None = None,
    network: nx.Graph | None = None,
) -> DetectionResult:
    """Detect perpetrator groups, their victims' moves, key players and leads.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        The graph as read from the store (``netanalysis.graphs.read_analysis_graph``).
    settings : DetectionSettings, optional
        Default settings when not given.
    store : graphstore.neo4j_store.Neo4jStore, optional
        The store ``graph`` was read from (with the settings' window); needed, and only used, with
        ``engine="gds"``.
    progress : callable, optional
        Called as ``progress("detect", stages done, stages in all)`` after each stage (``STAGES``),
        e.g. to feed a progress bar; the time of each stage is in ``DetectionResult.timings``.
    network : networkx.Graph, optional
        The perpetrator network, made already by ``perpetrator_network`` with the settings'
        weights, level and reference date, e.g. from the evidence the store selected
        (``netanalysis.graphs.read_evidence_graph``, what ``netanalysis detect`` does): used
        instead of making it again from ``graph``. Not with ``engine="gds"``.

    Returns
    -------
    DetectionResult
        Frames as documented in ``docs/detection.md``; ``settings`` holds the settings used plus
        the ``as_of`` date and the package version.

    Raises
    ------
    ConfigError
        When a setting is invalid.
    """
    with collector_spares_the_heap() as settle:
        return _detect(
            graph, (settings or DetectionSettings()).validate(), store, progress, network, settle=settle
        )


@audited("detect", store="store", after=record_detection)
def detect_store(
    store: GraphStore,
    settings: DetectionSettings | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> DetectionResult:
    """``detect`` on a store, reading only what it needs: what ``netanalysis detect`` runs.

    The same frames and settings as ``detect(read_detection_graph(store, date_from, date_to),
    settings)`` (``tests/test_projection_store.py``, both stores), read in two parts, so that
    Python never holds the whole graph: the evidence the store selects for the perpetrator network
    (``netanalysis.graphs.read_evidence_graph``), let go once the network is made, then, once the
    groups are found, the facts around their suspects and victims (``read_group_graph``).
    ``docs/detection.md`` ("What the detection reads") lists what each step reads.

    Parameters
    ----------
    store : GraphStore
        An open store; the settings' ``date_from`` and ``date_to`` are the window read.
    settings : DetectionSettings, optional
        Default settings when not given.
    progress : callable, optional
        As for ``detect``, and ``progress("read", rows, rows)`` once the evidence is read (its
        nodes and relationships); the steps' own reads count in their stages.

    Returns
    -------
    DetectionResult

    Raises
    ------
    ConfigError
        When a setting is invalid, or with ``engine="gds"``, which works on the detection graph
        (``detect(read_detection_graph(store), settings, store=store)``).
    """
    from netanalysis.graphs import read_evidence_graph

    settings = (settings or DetectionSettings()).validate()
    if settings.engine == "gds":
        raise ConfigError(
            "--engine gds works on the detection graph: call detect(read_detection_graph(store), "
            "settings, store=store)."
        )
    if progress is not None:
        progress("read", 0, None)
    evidence = read_evidence_graph(store, settings.date_from, settings.date_to)
    if progress is not None:  # the rows of the evidence: the rest is read stage by stage
        rows = evidence.number_of_nodes() + evidence.number_of_edges()
        progress("read", rows, rows)
    as_of = settings.as_of or evidence.graph.get(LATEST_OBSERVED_ATTR)
    network = perpetrator_network(evidence, settings.weights, as_of, settings.level)
    del evidence  # the network is all that is kept of it

    steps = _StoreSteps(GroupReader(store, settings.date_from, settings.date_to))
    # Each step's graph read around the groups is let go after it: no settle between steps, which
    # would keep such a graph (its cached views make a cycle) until the end.
    with collector_spares_the_heap():
        return _detect(None, settings, None, progress, network, steps)


def _detect(
    graph: nx.MultiDiGraph | None,
    settings: DetectionSettings,
    store: object,
    progress: Callable[[str, int, int | None], None] | None,
    network: nx.Graph | None,
    graph_for: _Steps | None = None,
    settle: Callable[[], None] = lambda: None,
) -> DetectionResult:
    """``detect`` on ``graph``, or, when ``graph`` is None, on ``network`` (made already) with
    the steps after the groups reading their graphs through ``graph_for``; ``settle()`` after
    the index and each stage (``graphs.collector_spares_the_heap``)."""
    from netanalysis import __version__

    level = settings.level
    clock = time.perf_counter()
    timings: dict[str, float] = {}

    n_stages = len(STAGES) - (1 if settings.engine == "gds" else 0)

    def lap(stage: str) -> None:
        nonlocal clock
        settle()  # its cost counts in the stage it follows
        now = time.perf_counter()
        timings[stage] = round(now - clock, 3)
        clock = now
        if progress is not None:
            progress("detect", len(timings), n_stages)

    index = None if graph is None else index_graph(graph)
    settle()
    # A detection graph (read_detection_graph) leaves the records out: its latest observation,
    # which perpetrator_network would take from all facts, comes from the store.
    provenance: ProvenanceRows | None = None if graph is None else graph.graph.get(PROVENANCE_ATTR)
    as_of_used = settings.as_of or (provenance.latest_observed if provenance is not None else None)
    in_database: dict[str, float] | None = None
    if network is not None:
        _check_network(network, settings, as_of_used)
    if settings.engine == "gds":
        from netanalysis.indatabase import gds_network

        check_engine(settings.engine, settings.weights, settings.method, settings.resolution)
        if graph is None or index is None:
            raise ConfigError("--engine gds reads the detection graph: use detect, not detect_store.")
        if store is None:
            raise ConfigError(
                "--engine gds needs the Neo4j store the graph was read from: pass store= to detect."
            )
        network, partition, in_database = gds_network(
            graph,
            store,
            weights=settings.weights,
            method=settings.method,
            seed=settings.seed,
            resolution=settings.resolution,
            level=level,
            as_of=as_of_used,
            date_from=settings.date_from,
            date_to=settings.date_to,
            index=index,
        )
        lap("network_and_groups_in_database")
    else:
        if network is None:
            if graph is None:
                raise ConfigError("detect needs a graph or a perpetrator network.")
            network = perpetrator_network(graph, settings.weights, as_of_used, level, index)
        lap("network")
        partition = find_groups(network, settings.method, settings.seed, settings.resolution)
        lap("groups")
    as_of = network.graph.get("as_of")
    stability = group_stability(
        network,
        partition,
        runs=settings.stability_runs,
        seed=settings.seed,
        method=settings.method,
        resolution=settings.resolution,
        drop=settings.stability_drop,
    )
    suspect_groups = {f"Person:{p}": g for p, g in partition.items()}
    lap("stability")
    steps: _Steps
    if graph is not None and index is not None:
        steps = _GraphSteps(graph, index)
    elif graph_for is not None:
        steps = graph_for  # each step reads its own graph around the groups, in the next stages
    else:
        raise ConfigError("detect needs a graph or a store to read it from.")
    victim_groups = steps.victims(suspect_groups)

    group_rows = []
    for person, group in partition.items():
        st = stability[group]
        group_rows.append(
            {
                "group_id": group,
                "person_id": person,
                "role": "suspect",
                "core": person in st.core,
                "stability": round(st.stability, 4),
            }
        )
    for victim, group in victim_groups.items():
        group_rows.append(
            {
                "group_id": group,
                "person_id": bare_key(victim),
                "role": "victim",
                "core": False,
                "stability": round(stability[group].stability, 4),
            }
        )
    groups = _frame("groups", group_rows)
    if len(groups):
        groups = groups.sort_values(["group_id", "role", "person_id"]).reset_index(drop=True)

    regions = steps.regions(level)
    members_of: dict[str, list[str]] = defaultdict(list)
    for node, group in suspect_groups.items():
        members_of[group].append(node)
    victims_of: dict[str, list[str]] = defaultdict(list)
    for node, group in victim_groups.items():
        victims_of[group].append(node)
    node_group = {**suspect_groups, **victim_groups}
    # Observations, dates, exploitation types and birth years of the groups' persons.
    facts = steps.member_facts(node_group, victim_groups)
    obs = facts.obs

    move_rows = []
    for victim, group in victim_groups.items():
        for move in moves_from_observations(victim, obs.get(victim, [])):
            fr, to = regions.get(move.from_code, "unknown"), regions.get(move.to_code, "unknown")
            move_rows.append(
                {
                    "group_id": group,
                    "person_id": bare_key(victim),
                    "from_code": move.from_code,
                    "to_code": move.to_code,
                    "from_region": fr,
                    "to_region": to,
                    "date": move.date,
                    "cross_region": fr != to,
                }
            )
    movements = _frame("movements", move_rows)
    if len(movements):
        movements = movements.sort_values(["group_id", "person_id", "date", "from_code"]).reset_index(
            drop=True
        )

    first, last, types = facts.first, facts.last, facts.types
    minors: Counter[str] = Counter()
    for victim, group in victim_groups.items():
        birth = facts.births.get(victim)
        seen = obs.get(victim)
        if birth and seen and int(seen[0][0][:4]) - int(birth) < 18:
            minors[group] += 1

    moves_by_group: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for move_row in move_rows:
        moves_by_group[str(move_row["group_id"])].append(move_row)
    summary_rows = []
    for group in sorted(members_of):
        touched = sorted(
            {
                regions[code]
                for node in members_of[group] + victims_of[group]
                for _, code in obs.get(node, [])
                if code in regions
            }
        )
        group_moves = moves_by_group.get(group, [])
        cross = sum(1 for m in group_moves if m["cross_region"])
        known = sorted(types[group] - {"unknown"}) or sorted(types[group])
        row: dict[str, Any] = {
            "group_id": group,
            "members": len(members_of[group]),
            "victims": len(victims_of[group]),
            "regions": "|".join(touched),
            "n_regions": len(touched),
            "moves": len(group_moves),
            "cross_region_moves": cross,
            "cross_regional": cross > 0,
            "exploitation_types": "|".join(known),
            "first_seen": first.get(group, ""),
            "last_seen": last.get(group, ""),
            "stability": round(stability[group].stability, 4),
        }
        row["priority"], row["priority_reasons"] = priority(
            row, minors[group], as_of, settings.priority_weights
        )
        summary_rows.append(row)
    group_summary = _frame("group_summary", summary_rows)

    link_rows = []
    for a, b, data in network.edges(data=True):
        ga, gb = partition[a], partition[b]
        link_rows.append(
            {
                "group_id": ga if ga == gb else "",
                "person_a": min(a, b),
                "person_b": max(a, b),
                "weight": round(float(data["weight"]), 6),
                "kinds": data.get("kinds", ""),
                "evidence_items": sum((data.get("evidence") or {}).values()),
            }
        )
    links = _frame("links", link_rows)
    if len(links):
        links = links.sort_values(["person_a", "person_b"]).reset_index(drop=True)

    bare_groups = {bare_key(node): group for node, group in node_group.items()}
    kp_kwargs: dict[str, Any] = {"region_attr": "region", "weight": "weight", "seed": settings.seed}
    # Sampled betweenness only for big groups (docs/key-players-and-leads.md has its error).
    sample_k = settings.betweenness_k
    if sample_k is not None:
        kp_kwargs["betweenness_k"] = sample_k
        kp_kwargs["sample_above"] = max(settings.betweenness_exact_max, sample_k)
    lap("movements_and_summary")
    # Suspects in the network are bare person ids (str); find_groups types them as Hashable.
    partition_by_id = cast(Mapping[str, str], partition)
    key_players = _frame(
        "key_players",
        keyplayers.key_players(network, partition_by_id, betweenness=in_database, **kp_kwargs),
    )
    lap("key_players")
    disruption = _frame(
        "disruption",
        keyplayers.disruption(
            network,
            partition_by_id,
            seed=settings.seed,
            betweenness_k=sample_k,
            sample_above=kp_kwargs.get("sample_above"),
        ),
    )
    lap("disruption")
    leads = _frame("leads", steps.leads(bare_groups))
    lap("leads")
    crowded = _frame("crowded_addresses", steps.crowded(bare_groups, settings.crowded))
    hubs = _frame("hubs", steps.hubs(bare_groups))
    lap("addresses")

    used = settings.to_dict()
    used.update(
        {
            "as_of": as_of,
            "netanalysis_version": __version__,
            "network": {
                "suspects": network.number_of_nodes(),
                "links": network.number_of_edges(),
                "skipped_items": network.graph.get("skipped_items", {}),
            },
        }
    )
    persons, signal_rows = steps.provenance_frames()
    lap("persons")
    return DetectionResult(
        groups=groups,
        persons=persons,
        movements=movements,
        group_summary=group_summary,
        key_players=key_players,
        disruption=disruption,
        leads=leads,
        links=links,
        signal_rows=signal_rows,
        crowded_addresses=crowded,
        hubs=hubs,
        settings=used,
        level=level,
        network=network,
        timings=timings,
    )
