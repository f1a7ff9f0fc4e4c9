"""A missing optional part is one sentence naming the extra, from the command line and from the API.

The optional module is hidden in a child interpreter (``sys.modules[name] = None`` makes every
import of it fail as if it were not installed), so the test needs no second environment; the
wheel test (tests/test_wheel.py) checks the same against a real install without the extra.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from netanalysis.errors import ConfigError
from netanalysis.extras import OPTIONAL, missing_extra, require

REPO = Path(__file__).resolve().parents[1]


def _hidden(module: str, code: str) -> subprocess.CompletedProcess[str]:
    prelude = f"import sys; sys.modules[{module!r}] = None\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + code], capture_output=True, text=True, cwd=REPO, timeout=300
    )


def test_require_names_the_extra() -> None:
    with pytest.raises(ConfigError, match=r"pip install 'netanalysis\[report\]'"):
        require("no_such_module_here", "report", "the report's PDF")


def test_missing_extra_knows_only_the_optional_modules() -> None:
    assert missing_extra(ModuleNotFoundError("x", name="pandas")) is None
    error = missing_extra(ModuleNotFoundError("x", name="pyarrow.parquet"))
    assert error is not None and "netanalysis[report]" in str(error)
    assert set(OPTIONAL) >= {"weasyprint", "pyarrow", "nbclient", "websocket"}


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_report_without_weasyprint_is_one_sentence_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "report"
    code = (
        "from netanalysis.cli import main\n"
        f"sys.exit(main(['report', '--store', {str(tmp_path / 'none.sqlite')!r}, '--period', '2024',"
        f" '--out', {str(out)!r}]))\n"
    )
    proc = _hidden("weasyprint", code)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == (
        "error: the report's PDF needs weasyprint, which is not installed: pip install 'netanalysis[report]'"
    )
    assert not out.exists()


def test_report_without_the_pdf_does_not_need_weasyprint(tmp_path: Path) -> None:
    code = "from netanalysis.report import require_report_extras\nrequire_report_extras(pdf=False)\n"
    assert _hidden("weasyprint", code).returncode == 0


def test_the_public_api_names_the_extra(tmp_path: Path) -> None:
    out = tmp_path / "report"
    code = (
        "import netanalysis as na\n"
        "report = na.Report(tables={}, figures=[], html='', settings=na.ReportSettings(), stamp={})\n"
        "try:\n"
        f"    report.write({str(out)!r}, pdf=False)\n"
        "except na.ConfigError as exc:\n"
        "    print(exc)\n"
    )
    proc = _hidden("pyarrow", code)
    assert proc.stdout.strip() == (
        "the report's Parquet tables needs pyarrow, which is not installed: pip install 'netanalysis[report]'"
    ), proc.stderr
    assert not out.exists()
