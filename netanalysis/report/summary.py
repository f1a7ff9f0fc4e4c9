"""The report's first-page summary: plain sentences made only from the published tables.

Every number in a sentence is read from a published (suppressed) table, or is a share of two
published numbers that are both at least the threshold, so the text can never reveal more than the
tables do. A measure that is hidden in its table is said to be not publishable, never estimated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["published_number", "summary_sentences"]


def published_number(cell: object, threshold: int) -> int | None:
    """The count a published cell shows, or None when it is hidden (``<k``, ``x``) or small.

    Examples
    --------
    >>> published_number("12", 5), published_number("<5", 5), published_number("x", 5)
    (12, None, None)
    """
    text = str(cell).strip()
    if not text.isdigit():
        return None
    value = int(text)
    return value if value == 0 or value >= threshold else None


def _say(cell: object, threshold: int, t: Mapping[str, Any]) -> str:
    text = str(cell).strip()
    if text.isdigit():
        return text
    if text.startswith("<"):
        return str(t["fewer_than"]).format(threshold=threshold)
    return str(t["unpublished"])


def _change(before: int | None, now: int | None, t: Mapping[str, Any]) -> str | None:
    if before is None or now is None or before == 0:
        return None
    pct = round(100 * (now - before) / before)
    if pct == 0:
        return str(t["stable"]).format(before=before, now=now)
    word = t["rose"] if pct > 0 else t["fell"]
    return str(word).format(before=before, now=now, pct=abs(pct))


def summary_sentences(
    published: Mapping[str, pd.DataFrame],
    strings: Mapping[str, Any],
    threshold: int,
    period_text: str,
) -> list[str]:
    """Sentences for a policy reader, made from the published tables only.

    Parameters
    ----------
    published : the report's published tables (cells are strings: counts, ``<k`` or ``x``).
    strings : the language's texts (``strings.yaml``), with their ``story`` and ``metrics`` keys.
    threshold : the suppression threshold the tables were published with.
    period_text : how the period is written in the text (``2024-01-01 – 2024-12-31``).

    Returns
    -------
    The sentences, in reading order.

    Examples
    --------
    >>> t = {"story": {"headline": "In {period}: {suspects} suspects, {victims} victims, {groups} groups.",
    ...                "fewer_than": "fewer than {threshold}", "unpublished": "an unpublished number"},
    ...      "this_period": "now", "previous_period": "before", "metrics": {}}
    >>> summary = pd.DataFrame({"now": ["40", "<5", "x"]}, index=["suspects", "victims", "groups"])
    >>> summary_sentences({"summary": summary}, t, 5, "2024")
    ['In 2024: 40 suspects, fewer than 5 victims, an unpublished number groups.']
    """
    t = strings["story"]
    out: list[str] = []
    head = published["summary"]
    now_col = strings["this_period"]
    before_col = strings["previous_period"]
    names = {v: k for k, v in strings.get("metrics", {}).items()}
    head = head.rename(index=lambda r: names.get(r, r))

    def cell(metric: str, column: str) -> object:
        return head.loc[metric, column] if metric in head.index and column in head.columns else "x"

    out.append(
        t["headline"].format(
            period=period_text,
            suspects=_say(cell("suspects", now_col), threshold, t),
            victims=_say(cell("victims", now_col), threshold, t),
            groups=_say(cell("groups", now_col), threshold, t),
        )
    )
    if "cross_share" not in t:
        return out
    groups = published_number(cell("groups", now_col), threshold)
    cross = published_number(cell("cross_regional_groups", now_col), threshold)
    if groups and cross is not None and cross >= threshold and groups - cross >= threshold:
        out.append(t["cross_share"].format(share=round(100 * cross / groups), cross=cross, groups=groups))
    else:
        out.append(t["cross_share_hidden"])

    corridors = published.get("main_corridors")
    if corridors is not None and len(corridors):
        top = corridors.reset_index().head(3)
        parts = [f"{r.iloc[0]} → {r.iloc[1]} ({r.iloc[2]})" for _, r in top.iterrows()]
        out.append(t["corridors"].format(corridors="; ".join(parts)))
    else:
        out.append(t["no_corridors"].format(threshold=threshold))

    for metric in ("victims", "groups"):
        change = _change(
            published_number(cell(metric, before_col), threshold),
            published_number(cell(metric, now_col), threshold),
            t,
        )
        label = strings["columns"].get(metric, metric)
        if change:
            out.append(t["change"].format(measure=label, change=change))
        else:
            out.append(t["change_hidden"].format(measure=label))

    ages = published.get("persons_by_age_band")
    minors = published.get("minor_victims")
    if ages is not None and minors is not None and "Total" in ages.index:
        victims = published_number(ages.loc["Total", "victims"], threshold)
        minor = published_number(minors.loc["Total", "Total"], threshold) if "Total" in minors.index else None
        if victims and minor is not None:
            out.append(t["minors"].format(minors=minor, victims=victims))
        else:
            out.append(t["minors_hidden"])

    forms = published.get("persons_by_exploitation")
    if forms is not None:
        shown = {
            str(form): n
            for form, cellv in forms["victims"].items()
            if form not in ("Total", "unknown") and (n := published_number(cellv, threshold))
        }
        if shown:
            form = max(shown, key=lambda f: shown[f])
            out.append(t["main_form"].format(form=t["forms"].get(form, form), n=shown[form]))

    trend = published.get("trend_per_year")
    if trend is not None and len(trend) >= 2:
        first, last = trend.index[0], trend.index[-1]
        a = published_number(trend.loc[first, "victims"], threshold)
        b = published_number(trend.loc[last, "victims"], threshold)
        if a is not None and b is not None:
            out.append(t["years"].format(first=first, last=last, before=a, now=b))
    return out
