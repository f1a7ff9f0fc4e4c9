"""Value normalisers, one module per value type (text, names, dates, phones, plates, IBANs,
postcodes, nationality, places, closed word lists). Each takes the written string and returns the
normalised value or raises ``ValueError`` with a reason a user can read."""

__all__: list[str] = []
