"""Build hook: ship the repository's top-level graph model and sample data inside the wheel.

``graph_schema.cypher`` and ``data_samples/`` stay where the project's design puts them, at the
top of the repository. A wheel has no top level, so the build copies them into the packages that
read them (``graphstore/graph_schema.cypher``, ``netanalysis/_samples/``) at build time: one file
in the repository, never a second copy that could drift. An editable install reads them from
the checkout instead (``graphstore.schema.schema_path``, ``netanalysis.demo.samples_dir``).
Everything else about the package is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = {
    "graph_schema.cypher": Path("graphstore") / "graph_schema.cypher",
    "data_samples": Path("netanalysis") / "_samples",
}


class BuildWithSharedFiles(build_py):
    """``build_py`` that also copies the top-level files the installed toolkit needs."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for source, target in SHIPPED.items():
            src, dst = ROOT / source, Path(self.build_lib) / target
            if src.is_dir():
                shutil.rmtree(dst, ignore_errors=True)
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)


setup(cmdclass={"build_py": BuildWithSharedFiles})
