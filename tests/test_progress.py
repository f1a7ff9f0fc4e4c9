"""The long commands' progress bar shows the count, the rate and the time left."""

from __future__ import annotations

import io
import time

from rich.console import Console

from netanalysis.commands.progress import stage_bar


def test_the_bar_shows_rows_per_second_and_the_time_left() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160, color_system=None)
    bar, progress = stage_bar(console, {"write": "write to store"})
    with bar:
        progress("write", 0, 100_000)
        time.sleep(0.3)
        progress("write", 30_000, 100_000)
        time.sleep(0.3)
        progress("write", 60_000, 100_000)
        bar.refresh()
        shown = out.getvalue()
    assert "write to store" in shown
    assert "60,000" in shown
    assert "rows/s" in shown
    # 60,000 rows in about 0.6 s: a rate in the tens of thousands, not a blank or zero.
    rate = shown.rsplit(" rows/s", 1)[0].rsplit(" ", 1)[-1]
    assert int(rate.replace(",", "")) > 1_000
    assert " left" in shown.rsplit("60,000", 1)[1]


def test_a_stage_without_a_total_shows_its_count_and_no_time_left() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160, color_system=None)
    bar, progress = stage_bar(console, {"read": "read + normalise"})
    with bar:
        progress("read", 5_000, None)
        progress("read", 10_000, None)
        bar.refresh()
    shown = out.getvalue()
    assert "read + normalise" in shown and "10,000" in shown
    assert "left" not in shown


def test_a_step_told_only_its_start_and_end_shows_its_average_rate() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160, color_system=None)
    bar, progress = stage_bar(console, {"read": "read the graph", "write": "write"}, units={"write": "files"})
    with bar:
        progress("read", 0, None)
        time.sleep(0.2)
        progress("read", 50_000, 50_000)
        progress("write", 0, 3)
        bar.refresh()
    shown = out.getvalue()
    rate = shown.rsplit(" rows/s", 1)[0].rsplit(" ", 1)[-1]
    assert 10_000 < int(rate.replace(",", "")) < 250_001  # 50,000 rows in at least 0.2 s
    assert "files/s" not in shown  # the files have not started: no rate yet
