"""loaders: read, validate, normalise, pseudonymise, resolve and load source records.

``loaders`` never imports ``netanalysis``: data flows files -> loaders -> graph store -> analysis.
"""

__all__: list[str] = []
