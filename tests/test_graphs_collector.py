"""The reads of netanalysis.graphs pause Python's cyclic garbage collector while they build a
graph (a tenth of their CPU at 100k rows) and always leave it as they found it."""

from __future__ import annotations

import gc

import pytest

from netanalysis.graphs import collector_paused, collector_spares_the_heap


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_and_left_as_it_was(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        with collector_paused():
            assert not gc.isenabled()
        assert gc.isenabled() is enabled
        with pytest.raises(RuntimeError), collector_paused():
            raise RuntimeError("a read that fails")
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_the_heap_is_frozen_for_the_steps_and_thawed_after() -> None:
    assert gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), collector_spares_the_heap():
        assert gc.get_freeze_count() > 0
        raise RuntimeError("a step that fails")
    assert gc.get_freeze_count() == 0
    # A caller that froze objects itself keeps them frozen.
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with collector_spares_the_heap():
            pass
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_a_load_leaves_the_collector_as_it_found_it() -> None:
    """A load freezes what it keeps and raises the collector's thresholds for its length, then
    restores both, also when it fails; under a caller's freeze it leaves that freeze alone."""
    from loaders.pipeline import _long_lived

    thresholds = gc.get_threshold()
    with pytest.raises(RuntimeError), _long_lived() as settle:
        assert gc.get_threshold() != thresholds
        settle()
        assert gc.get_freeze_count() > 0
        raise RuntimeError("a load that fails")
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == thresholds
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with _long_lived() as settle:
            settle()
        assert gc.get_freeze_count() == frozen and gc.get_threshold() == thresholds
    finally:
        gc.unfreeze()
