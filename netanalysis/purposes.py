"""The processing register: the purposes person-level data may be processed for, and by which commands.

An organisation keeps one register (``purposes.yaml``). Each purpose has an id, a description, a
legal basis (for example ``Wpg art. 8``, ``Wpg art. 9``, or a municipal basis) and the commands it
allows. A command that reads or writes person-level data takes ``--purpose ID`` (a notebook: a
``purpose=`` argument or the session setting) and is refused, in one sentence, when the purpose is
unknown or does not allow it. The audit log records the purpose with every entry, as a
``processing_activity_id`` that points into the register (``<register uri>#<purpose id>``).

The format::

    register: urn:nl:riec:example:verwerkingsregister     # URI of the register (any stable name)
    purposes:
      - id: analyse-netwerken
        description: Tracing perpetrator networks across regions for the RIEC case intake
        legal_basis: Wpg art. 8
        commands: [load, detect, map, report]

Examples
--------
>>> reg = PurposeRegister.from_dict({"register": "urn:x", "purposes": [
...     {"id": "p1", "description": "d", "legal_basis": "Wpg art. 8", "commands": ["detect"]}]})
>>> reg.check("p1", "detect").activity_id
'urn:x#p1'
>>> reg.check("p1", "load")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
netanalysis.errors.AccessRefused: purpose 'p1' does not allow the command 'load' (it allows: detect); ...
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from netanalysis.errors import AccessRefused, ConfigError

__all__ = ["Purpose", "PurposeRegister", "load_register"]


@dataclass(frozen=True)
class Purpose:
    """One purpose of the register."""

    id: str
    description: str
    legal_basis: str
    commands: frozenset[str]
    register: str

    @property
    def activity_id(self) -> str:
        """The processing activity id the audit log records: ``<register>#<purpose id>``."""
        return f"{self.register}#{self.id}"


@dataclass(frozen=True)
class PurposeRegister:
    """The register: its URI and purposes by id."""

    uri: str
    purposes: Mapping[str, Purpose]
    path: Path | None = None

    @classmethod
    def from_dict(cls, data: Any, path: Path | None = None) -> PurposeRegister:
        """Build a register from parsed YAML; a malformed one is a :class:`ConfigError` naming what."""
        where = str(path) if path else "the processing register"
        if not isinstance(data, Mapping):
            raise ConfigError(f"{where} must be a mapping with 'register' and 'purposes'")
        unknown = set(data) - {"register", "purposes"}
        if unknown:
            raise ConfigError(f"{where} has unknown keys: {', '.join(sorted(map(str, unknown)))}")
        uri = data.get("register")
        if not isinstance(uri, str) or not uri.strip():
            raise ConfigError(f"{where} has no 'register' (the URI or name of the register)")
        items = data.get("purposes")
        if not isinstance(items, list) or not items:
            raise ConfigError(f"{where} lists no 'purposes'")
        purposes: dict[str, Purpose] = {}
        for i, item in enumerate(items, start=1):
            if not isinstance(item, Mapping):
                raise ConfigError(f"{where}: purpose {i} is not a mapping")
            missing = [k for k in ("id", "description", "legal_basis", "commands") if not item.get(k)]
            if missing:
                raise ConfigError(f"{where}: purpose {i} has no {', '.join(missing)}")
            extra = set(item) - {"id", "description", "legal_basis", "commands"}
            if extra:
                raise ConfigError(
                    f"{where}: purpose {i} has unknown keys: {', '.join(sorted(map(str, extra)))}"
                )
            pid = str(item["id"])
            if pid in purposes:
                raise ConfigError(f"{where}: purpose id {pid!r} appears twice")
            commands = item["commands"]
            if not isinstance(commands, list) or not all(isinstance(c, str) for c in commands):
                raise ConfigError(f"{where}: purpose {pid!r} must list its commands as a list of names")
            purposes[pid] = Purpose(
                pid, str(item["description"]), str(item["legal_basis"]), frozenset(commands), uri
            )
        return cls(uri, purposes, path)

    def check(self, purpose: str | None, command: str) -> Purpose:
        """The purpose ``purpose`` if it allows ``command``; else :class:`AccessRefused`, one sentence."""
        if not purpose:
            raise AccessRefused(
                f"the command '{command}' processes person-level data and needs a purpose: give "
                f"--purpose with one of {', '.join(sorted(self.purposes))} (register {self.where})"
            )
        found = self.purposes.get(purpose)
        if found is None:
            raise AccessRefused(
                f"purpose {purpose!r} is not in the processing register {self.where}; "
                f"known purposes: {', '.join(sorted(self.purposes))}"
            )
        if command not in found.commands:
            raise AccessRefused(
                f"purpose {purpose!r} does not allow the command '{command}' "
                f"(it allows: {', '.join(sorted(found.commands))}); ask for the register to be changed "
                "or use a purpose that allows it"
            )
        return found

    @property
    def where(self) -> str:
        return str(self.path) if self.path else self.uri


def load_register(path: Path | str) -> PurposeRegister:
    """Read ``purposes.yaml``; a missing or malformed file is one :class:`ConfigError` sentence."""
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"the processing register {path} does not exist; see docs/audit.md for its format"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the processing register {path} ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"the processing register {path} is not valid YAML{line}") from None
    return PurposeRegister.from_dict(data, path)
