"""Synthetic case and signal records with planted perpetrator groups and their ground truth.

``generate(out_dir, seed=2024, groups=20, noise=0.1)`` writes

- ``out_dir/sources/``: the four source exports (:mod:`synth.sources`),
- ``out_dir/sources.yaml``: the mapping file that tells the loader how to read them,
- ``out_dir/truth/``: the ground truth (:mod:`synth.truth`),
- with ``deliveries=N``, also ``out_dir/deliveries/001/`` ... ``NNN/``: the sources as N
  chronological deliveries, and ``out_dir/truth/deliveries.csv`` (:mod:`synth.deliveries`),

deterministically for a seed (same seed, same bytes). Groups are planted one at a time and rows
pass through a bounded shuffle buffer per source, so memory stays constant from a few hundred
rows to ten million. Nobody in the data is a real person: names are built from parts.

Examples
--------
>>> import tempfile
>>> with tempfile.TemporaryDirectory() as tmp:
...     summary = generate(tmp, seed=7, groups=4)
>>> summary.groups, summary.cross_regional_groups
(4, 2)
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from netanalysis.errors import ConfigError
from synth.deliveries import split
from synth.identifiers import IdentifierFactory
from synth.noise import NOISE_KINDS, NoiseModel
from synth.places import geography
from synth.sources import EXCEL_MAX_ROWS, SIGNAL_SOURCES, SOURCES, SourceWriter, mapping
from synth.truth import TruthWriter
from synth.world import LINK_ONLY_KINDS, SHARED_KINDS, Event, Plan, World

__all__ = ["NOISE_KINDS", "SOURCES", "Progress", "SynthSummary", "generate"]

#: ``progress(stage, done, total)``: the rows planted so far (stage ``plant``) and the total asked
#: for with ``rows`` (None with ``groups``), then the deliveries written (stage ``deliveries``).
Progress = Callable[[str, int, "int | None"], None]
#: How many planted rows pass between two calls of ``progress`` (a call costs about a microsecond
#: in a bar; planting 2,000 rows a few hundredths of a second).
PROGRESS_EVERY = 2_000


@dataclass
class SynthSummary:
    """What a generation run wrote."""

    out_dir: str
    seed: int
    noise: float
    rows: dict[str, int] = field(default_factory=dict)
    person_rows: int = 0
    groups: int = 0
    lone_offenders: int = 0
    cross_regional_groups: int = 0
    link_only_groups: int = 0
    addresses: int = 0
    organisations: int = 0
    persons: int = 0
    signals: int = 0
    group_signals: int = 0
    orphan_signals: int = 0
    movements: int = 0
    noise_counts: dict[str, int] = field(default_factory=dict)
    delivery_rows: dict[int, int] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        """All data rows over all sources."""
        return sum(self.rows.values())


class _Emitter:
    """Per-source shuffle buffers in front of the writers: rows of a group do not sit together."""

    def __init__(
        self,
        folder: Path,
        truth: TruthWriter,
        rng: random.Random,
        noise: NoiseModel,
        buffer_rows: int,
        summary: SynthSummary,
    ) -> None:
        geo = geography()
        self.writers = {s: SourceWriter(s, folder, geo, random.Random(rng.getrandbits(64))) for s in SOURCES}
        self.buffers: dict[str, list[list[Event]]] = {s: [] for s in SOURCES}
        self.buffered = dict.fromkeys(SOURCES, 0)
        self.enqueued = dict.fromkeys(SOURCES, 0)
        self.rng = rng
        self.truth = truth
        self.noise = noise
        self.buffer_rows = buffer_rows
        self.summary = summary

    def add(self, block: list[Event]) -> None:
        source = block[0].source
        if source == "inspectie_arbeid" and self.enqueued[source] + len(block) > EXCEL_MAX_ROWS:
            for ev in block:  # Excel is full: the municipality registers the finding instead
                ev.source = "gemeente_signalen"
                self.add([ev])
            return
        self.buffers[source].append(block)
        self.buffered[source] += len(block)
        self.enqueued[source] += len(block)
        buf = self.buffers[source]
        while self.buffered[source] > self.buffer_rows:
            i = self.rng.randrange(len(buf))
            buf[i], buf[-1] = buf[-1], buf[i]
            self._emit(buf.pop())

    def flush(self) -> None:
        for source in SOURCES:
            buf = self.buffers[source]
            self.rng.shuffle(buf)
            for block in buf:
                self._emit(block)
            buf.clear()

    def _emit(self, block: list[Event]) -> None:
        source = block[0].source
        self.buffered[source] -= len(block)
        writer = self.writers[source]
        w = self.truth.w
        summary = self.summary
        for ev in block:
            row_id = writer.next_row_id()
            kinds = self.noise.draw(
                person=ev.person is not None,
                csv_file=writer.is_csv,
                protected=ev.protected,
                address=ev.address is not None,
                organisation=ev.organisation is not None,
            )
            applied = writer.write(ev, row_id, kinds)
            self.noise.record(applied)
            if ev.person is not None:
                w["mentions"].writerow((source, row_id, ev.person.pid))
                summary.person_rows += 1
            if source in SIGNAL_SOURCES:
                w["signals"].writerow((source, row_id, ev.group_id))
                summary.signals += 1
                if ev.group_id:
                    summary.group_signals += 1
                else:
                    summary.orphan_signals += 1
            if ev.address is not None or ev.organisation is not None:
                w["registrations"].writerow(
                    (
                        source,
                        row_id,
                        ev.address.aid if ev.address else "",
                        ev.organisation.oid if ev.organisation else "",
                    )
                )
            for kind in applied:
                w["noise"].writerow((source, row_id, kind))

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()
        self.summary.rows = {s: self.writers[s].count for s in SOURCES}


def generate(
    out_dir: str | Path,
    seed: int = 2024,
    groups: int = 20,
    noise: float = 0.1,
    rows: int | None = None,
    buffer_rows: int = 20_000,
    deliveries: int | None = None,
    progress: Progress | None = None,
) -> SynthSummary:
    """Write a synthetic data set with planted groups and its ground truth.

    Parameters
    ----------
    out_dir
        Folder to write ``sources/``, ``sources.yaml`` and ``truth/`` into (created if needed).
    seed
        Random seed; the same seed (and other parameters) gives byte-identical files.
    groups
        Number of planted perpetrator groups (half of them cross-regional); lone offenders
        (one per three groups) and orphan signals scale with it. Ignored when ``rows`` is given.
    noise
        Noise level: 0 none, 0.1 default, 0.3 high (see :mod:`synth.noise`).
    rows
        Instead of ``groups``: keep planting until at least this many source rows are written.
    buffer_rows
        Rows held per source in the shuffle buffer (memory bound; larger mixes groups more).
    deliveries
        Also write the sources as this many chronological deliveries (``deliveries/001/`` ...),
        each loadable with ``sources.yaml``, some rows re-sent corrected in a later delivery
        (:mod:`synth.deliveries`). At least 1 and at most the number of observation months.
    progress
        Called as ``progress(stage, done, total)`` while planting (stage ``plant``: rows so far,
        ``total`` the rows asked for or None) and once the deliveries are written; it never
        changes what is written.

    Returns
    -------
    SynthSummary
        Row counts per source, group counts, signal counts and noise counts (and rows per
        delivery when ``deliveries`` is given).
    """
    if deliveries is not None and deliveries < 1:
        raise ConfigError(f"deliveries must be at least 1, got {deliveries}.")
    if groups < 1 and rows is None:
        raise ConfigError(f"groups must be at least 1, got {groups}; pass --groups 1 or more.")
    if rows is not None and rows < 1:
        raise ConfigError(f"rows must be at least 1, got {rows}.")
    if not 0.0 <= noise <= 1.0:
        raise ConfigError(f"noise must be between 0 and 1 (0.1 default, 0.3 high), got {noise}.")
    out = Path(out_dir)
    src_dir = out / "sources"
    try:
        src_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create output folder {src_dir} ({exc.strerror}).") from None
    rng = random.Random(seed)
    world_rng = random.Random(rng.getrandbits(64))
    ids = IdentifierFactory(random.Random(rng.getrandbits(64)))
    world = World(world_rng, geography(), ids)
    noise_model = NoiseModel(random.Random(rng.getrandbits(64)), noise)
    summary = SynthSummary(str(out), seed, noise)
    with open(out / "sources.yaml", "w", encoding="utf-8", newline="\n") as fh:
        fh.write("# Written by `netanalysis synth`; the format is described in docs/mapping-format.md.\n")
        yaml.safe_dump(mapping(), fh, sort_keys=False, allow_unicode=True, width=110)
    with TruthWriter(out / "truth") as truth:
        emit_rng = random.Random(rng.getrandbits(64))
        emitter = _Emitter(src_dir, truth, emit_rng, noise_model, buffer_rows, summary)
        try:
            k = 0
            lone_n = 0
            planted = 0
            reported = 0
            while (k < groups) if rows is None else (planted < rows):
                # Two groups in ten (never cross-regional ones) are tied only by an address or agency.
                link_only = {3: LINK_ONLY_KINDS[0], 7: LINK_ONLY_KINDS[1]}.get(k % 10)
                _record(
                    emitter,
                    truth,
                    summary,
                    world.plant_group(
                        f"G{k + 1:04d}",
                        lone=False,
                        cross=k % 2 == 0,
                        force_shared=SHARED_KINDS[(k // 2) % len(SHARED_KINDS)],
                        link_only=link_only,
                    ),
                )
                if k % 3 == 1:
                    lone_n += 1
                    _record(
                        emitter,
                        truth,
                        summary,
                        world.plant_group(f"L{lone_n:04d}", lone=True, cross=False, force_shared=None),
                    )
                _record(emitter, truth, summary, world.plant_orphans(world_rng.randint(1, 3)))
                _record(emitter, truth, summary, world.plant_innocents())
                k += 1
                planted = sum(emitter.enqueued.values())
                if progress is not None and planted - reported >= PROGRESS_EVERY:
                    progress("plant", planted, rows)
                    reported = planted
            emitter.flush()
            if progress is not None:
                progress("plant", planted, planted)
        finally:
            emitter.close()
    summary.persons = world.persons
    summary.noise_counts = dict(noise_model.counts)
    if deliveries is not None:
        summary.delivery_rows = split(out, deliveries, seed)
        if progress is not None:
            progress("deliveries", deliveries, deliveries)
    return summary


def _record(emitter: _Emitter, truth: TruthWriter, summary: SynthSummary, plan: Plan) -> None:
    w = truth.w
    for row in plan.groups:
        w["groups"].writerow(row)
    for fact in plan.facts:
        w["group_facts"].writerow(fact)
    for move in plan.movements:
        w["movements"].writerow(move)
    for shared in plan.shared:
        w["shared_identifiers"].writerow(shared)
    for a in plan.addresses:
        w["addresses"].writerow((a.aid, a.kind, a.group_id, a.code, a.postcode, a.number, a.addition))
    for o in plan.organisations:
        w["organisations"].writerow((o.oid, o.kind, o.group_id, o.kvk, o.name, o.org_kind, o.code))
    for link in plan.link_only:
        w["link_only_groups"].writerow(link)
    summary.link_only_groups += len({g for g, _, _ in plan.link_only})
    summary.addresses += len(plan.addresses)
    summary.organisations += len(plan.organisations)
    summary.movements += len(plan.movements)
    if plan.facts:
        if plan.lone:
            summary.lone_offenders += 1
        else:
            summary.groups += 1
        summary.cross_regional_groups += plan.cross_regional
    for block in plan.blocks:
        emitter.add(block)
