"""The progress bar of the long commands: done, rows per second and the time left."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

__all__ = ["LeftColumn", "RateColumn", "RowsRead", "progress_console", "stage_bar"]


class RateColumn(ProgressColumn):
    """Rows per second over rich's recent window (blank until two updates have been seen), or
    over the whole step once it is done."""

    def __init__(self, unit: str = "rows") -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if speed is None and task.finished and task.finished_time:
            # A step told only its start and its end (reading the graph): its average rate.
            speed = task.completed / task.finished_time
        if speed is None:
            return Text("", style="progress.data.speed")
        unit = task.fields.get("unit", self.unit)
        return Text(f"{speed:,.0f} {unit}/s", style="progress.data.speed")


class LeftColumn(ProgressColumn):
    """The estimated time left, once the stage knows its total and has a rate."""

    def render(self, task: Task) -> Text:
        left = task.time_remaining
        if task.total is None or left is None or task.finished:
            return Text("")
        minutes, seconds = divmod(int(left), 60)
        hours, minutes = divmod(minutes, 60)
        return Text(f"{hours}:{minutes:02d}:{seconds:02d} left", style="progress.remaining")


def stage_bar(
    console: Console,
    stages: Mapping[str, str],
    unit: str = "rows",
    units: Mapping[str, str] | None = None,
) -> tuple[Progress, Callable[[str, int, int | None], None]]:
    """A bar with one line per stage and the callback ``progress(stage, done, total)`` that feeds it.

    The time left is shown once a stage knows its total; a stage without one shows its count,
    its rate and the time it has taken. ``units`` names what a stage counts when it is not
    ``unit`` (the report counts rows, then figures, then files).
    """
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}"),
        RateColumn(unit),
        TimeElapsedColumn(),
        LeftColumn(),
        console=console,
        transient=False,
    )
    tasks: dict[str, TaskID] = {}

    def progress(stage: str, done: int, total: int | None) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(
                stages.get(stage, stage), total=total, unit=(units or {}).get(stage, unit)
            )
        bar.update(tasks[stage], completed=done, total=total)

    return bar, progress


class RowsRead:
    """The ``progress(rows read, rows in all)`` of a store read (``netanalysis.graphs.ReadProgress``)
    shown as one stage of a ``stage_bar``: its rows, rows per second and the time left against
    the store's count. ``done`` keeps the rows read, which end the stage once the read is over
    (the count is an upper bound when a date window leaves rows out)."""

    def __init__(self, progress: Callable[[str, int, int | None], None], stage: str) -> None:
        self.progress = progress
        self.stage = stage
        self.done = 0

    def __call__(self, done: int, total: int) -> None:
        self.done = done
        self.progress(self.stage, done, total)


def progress_console(quiet: bool = False) -> Console:
    """The console of a command's bar: standard error, silent with ``--quiet`` or when standard
    error is not a terminal (a log file or a pipe gets no bar lines, the command's output stays)."""
    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        console.quiet = True
    return console
