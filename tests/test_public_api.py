"""The public API: every name in ``netanalysis.__all__`` resolves, and the list stays sorted."""

from __future__ import annotations

import subprocess
import sys

import netanalysis


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert netanalysis.__all__ == sorted(netanalysis.__all__)
    for name in netanalysis.__all__:
        assert getattr(netanalysis, name) is not None, name


def test_unknown_name_is_an_attribute_error() -> None:
    try:
        netanalysis.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_import_stays_light() -> None:
    heavy = "('matplotlib', 'weasyprint', 'igraph')"
    code = f"import sys, netanalysis; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_loaders_never_import_netanalysis() -> None:
    """Loaders see only the root package (the lazy public API shell) and its errors module."""
    code = (
        "import sys, loaders.pipeline, loaders.encode, loaders.hub, loaders.initial_import; "
        "print([m for m in sys.modules if m.startswith('netanalysis.') and m != 'netanalysis.errors'])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
