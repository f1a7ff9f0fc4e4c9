"""How much memory a command may take, and one sentence instead of a traceback when it runs out.

``MemorySettings.max_memory`` is the setting (``--max-memory`` on ``load``, ``detect`` and
``report``, or ``NETANALYSIS_MAX_MEMORY``). ``MemoryLimit`` applies it to the running process as
its address-space limit (``RLIMIT_AS``): an allocation beyond it fails at once with a
``MemoryError`` instead of pushing the machine into swap or the kernel's out-of-memory killer,
and the command stops with one sentence naming the step that ran out and the setting to change
(``ConfigError``, exit code 2). The address space counts what the process has reserved, which is
at least what it holds in memory (its resident size), so the limit is on the safe side.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType

from netanalysis.errors import ConfigError, StoreError

__all__ = ["ENV_MAX_MEMORY", "MemoryLimit", "MemorySettings", "format_bytes", "parse_bytes"]

#: The environment variable that sets ``max_memory`` when ``--max-memory`` is not given.
ENV_MAX_MEMORY = "NETANALYSIS_MAX_MEMORY"

_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
_AMOUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)
#: Below this no command of the toolkit even starts its work (the libraries alone take more).
MIN_MEMORY = 256 * 2**20


def parse_bytes(text: str, what: str = "--max-memory") -> int:
    """Bytes of an amount written ``8G``, ``8GB``, ``8GiB``, ``512M`` or ``1.5G`` (units of 1024).

    Examples
    --------
    >>> parse_bytes("8G"), parse_bytes("512MiB"), parse_bytes("1.5g")
    (8589934592, 536870912, 1610612736)
    """
    match = _AMOUNT.match(str(text))
    if not match or not match.group(2):
        raise ConfigError(f"{what} {text!r} is not an amount of memory such as 8G or 512M")
    value = int(float(match.group(1)) * _UNITS[match.group(2).upper()])
    if value < MIN_MEMORY:
        raise ConfigError(f"{what} {text!r} is too small: give at least {format_bytes(MIN_MEMORY)}")
    return value


def format_bytes(value: int) -> str:
    """An amount of memory as people write it.

    Examples
    --------
    >>> format_bytes(8 * 2**30), format_bytes(1536 * 2**20), format_bytes(300 * 2**20)
    ('8G', '1.5G', '300M')
    """
    for unit in ("T", "G", "M", "K"):
        size = _UNITS[unit]
        if value >= size:
            return f"{value / size:.1f}".removesuffix(".0") + unit
    return str(value)


@dataclass(frozen=True)
class MemorySettings:
    """How much memory a command may use.

    Attributes
    ----------
    max_memory : int, optional
        Bytes the process may reserve (its address space); None: no limit of the toolkit's own.
        A step that needs more stops with one sentence naming the step and this setting, exit
        code 2, instead of a ``MemoryError`` or the machine swapping. On the command line
        ``--max-memory 8G`` (``load``, ``detect``, ``report``), else the environment variable
        ``NETANALYSIS_MAX_MEMORY``.
    """

    max_memory: int | None = None

    @classmethod
    def from_text(cls, text: str | None) -> MemorySettings:
        """The settings of ``--max-memory`` (an amount such as ``8G``), else of the environment.

        Examples
        --------
        >>> MemorySettings.from_text("2G").max_memory
        2147483648
        """
        if text is None or not text.strip():
            text = os.environ.get(ENV_MAX_MEMORY) or None
            if text is None:
                return cls()
            return cls(parse_bytes(text, ENV_MAX_MEMORY))
        return cls(parse_bytes(text))


class MemoryLimit:
    """The process's memory limit while a command runs: ``with MemoryLimit(settings, "report")``.

    ``step`` says what runs now (the command sets it as its progress moves on); when an
    allocation fails, the limit is lifted again and ``ConfigError`` says which step ran out and
    what to change. Without ``max_memory`` nothing is limited and nothing is caught.

    Examples
    --------
    >>> with MemoryLimit(MemorySettings(), "report") as limit:
    ...     limit.step = "count the tables"
    """

    def __init__(self, settings: MemorySettings, command: str, advice: str = "") -> None:
        self.settings = settings
        self.command = command
        self.advice = advice
        self.step = "start"
        self._before: tuple[int, int] | None = None

    def __enter__(self) -> MemoryLimit:
        limit = self.settings.max_memory
        if limit is None:
            return self
        try:
            import resource
        except ImportError:  # Windows: no address-space limit to set
            raise ConfigError("--max-memory needs Linux or macOS (a limit of the address space)") from None
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY and limit > hard:
            limit = hard
        _warm_up_blas()
        self._before = (soft, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        return self

    def tracking(
        self, progress: Callable[[str, int, int | None], None], names: Mapping[str, str] | None = None
    ) -> Callable[[str, int, int | None], None]:
        """A progress callback that also remembers the step it was told of (by its name in
        ``names``) before it calls ``progress``: the step a failed allocation is blamed on."""

        if names:
            self.step = next(iter(names.values()))  # the step before the first report of progress

        def tell(stage: str, done: int, total: int | None) -> None:
            self.step = (names or {}).get(stage, stage)
            progress(stage, done, total)

        return tell

    def _lift(self) -> None:
        if self._before is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, self._before)
            self._before = None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        limited = self.settings.max_memory is not None
        self._lift()
        if limited and _out_of_memory(exc):
            amount = format_bytes(self.settings.max_memory or 0)
            raise ConfigError(
                f"{self.command} ran out of memory in the step '{self.step}' under --max-memory "
                f"{amount}: raise --max-memory (or {ENV_MAX_MEMORY}) to what this machine can give"
                f"{self.advice}"
            ) from None


def _warm_up_blas() -> None:
    """Let OpenBLAS (numpy's) take its working buffers now, before the limit: it takes them at
    its first product on each thread and, refused one, ends the process with a message of its own
    instead of raising ``MemoryError``."""
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        square = numpy.ones((512, 512))
        square @ square


def _out_of_memory(exc: BaseException | None) -> bool:
    """A failed allocation, also when a library reported it as its own error."""
    if isinstance(exc, MemoryError):
        return True
    if isinstance(exc, ImportError | OSError | RuntimeError):
        # A library loaded or a thread started under the limit: "failed to map segment from
        # shared object", "Cannot allocate memory", "can't start new thread".
        text = str(exc).lower()
        return any(s in text for s in ("failed to map segment", "cannot allocate memory", "start new thread"))
    # SQLite says "out of memory" through sqlite3.Error, which the store turns into StoreError.
    return isinstance(exc, StoreError) and "out of memory" in str(exc).lower()
