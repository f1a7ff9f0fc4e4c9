"""The Graph Data Science library in the server's plugins folder (``start(gds=True)``).

Neo4j ships GDS as one shaded jar that Maven Central does not carry; Central carries the modules it
is built from. The toolkit resolves them with ``gds_pom.xml`` into the cache, once per GDS and Neo4j
version, leaves out the libraries the server's own lib folder already holds (one version of each on
the class path), and copies the rest into ``<home>/plugins``.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from importlib import resources
from pathlib import Path

from graphstore.neo4j_server._provision import _run_maven
from graphstore.neo4j_server._settings import Progress, _check_version
from graphstore.neo4j_server._state import _locked, cache_root
from netanalysis.errors import StoreUnavailable

#: GDS Community 2.13 is the line for Neo4j 5.26.
GDS_VERSION = "2.13.9"
GDS_GROUP = "org.neo4j.gds"
_DONE = ".complete"
#: The jars this toolkit put into a home's plugins folder, one name a line (removed again on a start
#: without GDS, so plugins/ only ever holds what was asked for).
PLUGIN_LIST = ".gds-jars"
# "   org.neo4j.gds:proc:jar:2.13.9:compile -- module proc (auto)", optionally with a classifier.
_DEP_LINE = re.compile(r"^\s+([\w.\-]+):([\w.\-]+):jar(?::([\w.\-]+))?:([\w.\-]+):(compile|runtime)\b")
_POM_PROPS = re.compile(r"META-INF/maven/([^/]+)/([^/]+)/pom\.properties")


def _gds_dir(version: str, neo4j_version: str) -> Path:
    return cache_root() / f"gds-{version}-neo4j-{neo4j_version}" / "plugins"


def _server_artifacts(lib: Path) -> tuple[set[tuple[str, str]], set[str]]:
    """``(group, artifact)`` of the server's jars that say so, and the names of all its jars."""
    known: set[tuple[str, str]] = set()
    names = set()
    for jar in lib.glob("*.jar"):
        names.add(jar.name)
        try:
            with zipfile.ZipFile(jar) as zf:
                for entry in zf.namelist():
                    if m := _POM_PROPS.fullmatch(entry):
                        known.add((m.group(1), m.group(2)))
        except (OSError, zipfile.BadZipFile):
            continue
    return known, names


def _in_server(group: str, artifact: str, known: set[tuple[str, str]], names: set[str]) -> bool:
    if group == GDS_GROUP:  # GDS's own modules; some share a name with Neo4j's (annotations)
        return False
    if (group, artifact) in known:
        return True
    # Jars without Maven metadata (Caffeine, ...): by file name, "<artifact>-<version>.jar".
    pattern = re.compile(re.escape(artifact) + r"-\d[^/]*\.jar")
    return any(pattern.fullmatch(name) for name in names)


def provision_gds(
    neo4j_lib: Path, neo4j_version: str, version: str = GDS_VERSION, progress: Progress | None = None
) -> Path:
    """Make sure the GDS jars for the server in ``neo4j_lib`` are in the cache; fetch them if not.

    Parameters
    ----------
    neo4j_lib
        The server's lib folder (:func:`graphstore.neo4j_server.provision`).
    neo4j_version
        Its version: the jars left out depend on what the server brings.
    version
        The GDS version on Maven Central, e.g. ``"2.13.9"``.
    progress
        Called with a short line of text as Maven downloads (the first run fetches ~35 MB).

    Returns
    -------
    Path
        The folder holding the jars to put into a server's plugins folder.

    Raises
    ------
    StoreUnavailable
        Maven is missing or could not fetch GDS.
    """
    _check_version(version)
    dest = _gds_dir(version, neo4j_version)
    if (dest / _DONE).is_file():
        return dest
    with _locked(dest.parent / ".lock"):
        if (dest / _DONE).is_file():
            return dest
        what = f"the Graph Data Science library {version}"
        mvn = shutil.which("mvn")
        if not mvn:
            raise StoreUnavailable(
                f"Maven (mvn) not found on PATH; install it (e.g. apt-get install maven) to fetch {what}."
            )
        work = dest.parent / "plugins.partial"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        pom = dest.parent / "pom.xml"
        pom.write_bytes(resources.files("graphstore.neo4j_server").joinpath("gds_pom.xml").read_bytes())
        listing = dest.parent / "dependencies.txt"
        cmd = [
            mvn,
            "-B",
            "-U",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            "dependency:list",
            f"-Dgds.version={version}",
            f"-DoutputDirectory={work}",
            f"-DoutputFile={listing}",
            "-DincludeScope=runtime",
            # group.artifact-version.jar: two modules of different groups never share a file name.
            "-Dmdep.prependGroupId=true",
        ]
        _run_maven(cmd, version, progress, what=what, size="~35 MB")
        known, names = _server_artifacts(neo4j_lib)
        kept = 0
        for line in listing.read_text().splitlines():
            m = _DEP_LINE.match(line)
            if not m:
                continue
            group, artifact, classifier, dep_version = m.group(1), m.group(2), m.group(3), m.group(4)
            suffix = f"-{classifier}" if classifier else ""
            jar = work / f"{group}.{artifact}-{dep_version}{suffix}.jar"
            if _in_server(group, artifact, known, names):
                jar.unlink(missing_ok=True)
            elif jar.is_file():
                kept += 1
        if not (work / f"{GDS_GROUP}.proc-{version}.jar").is_file():
            raise StoreUnavailable(
                f"Maven could not fetch {what}: org.neo4j.gds:proc:{version} is missing from {work} "
                "after the download."
            )
        (work / _DONE).write_text(f"{kept} jars\n")
        shutil.rmtree(dest, ignore_errors=True)
        work.rename(dest)
        if progress:
            progress(f"GDS {version}: {kept} jars ready in {dest}")
        return dest


def install_plugins(home: Path, jars: Path | None) -> None:
    """Make ``<home>/plugins`` hold the GDS jars of ``jars``, or none of the toolkit's when ``None``."""
    plugins = home / "plugins"
    plugins.mkdir(exist_ok=True)
    listing = plugins / PLUGIN_LIST
    old = set(listing.read_text().split()) if listing.is_file() else set()
    sources = sorted(jars.glob("*.jar")) if jars is not None else []
    new = [source.name for source in sources]
    for name in old - set(new):
        (plugins / name).unlink(missing_ok=True)
    for source in sources:
        target = plugins / source.name
        if not target.is_file() or target.stat().st_size != source.stat().st_size:
            # Copied under another name first: a cut-off copy never looks like a jar to the server.
            partial = plugins / f".{source.name}.partial"
            shutil.copyfile(source, partial)
            partial.replace(target)
    if new:
        listing.write_text("\n".join(new) + "\n")
    else:
        listing.unlink(missing_ok=True)
