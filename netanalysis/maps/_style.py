"""Colours, shapes and line styles shared by the views (one place, so legends match the drawing)."""

from __future__ import annotations

from typing import Any

ROLE_COLOURS: dict[str, str] = {
    "suspect": "#d62728",
    "victim": "#1f77b4",
    "both": "#9467bd",
    "signalled": "#7f7f7f",
}

# Evidence kinds (links between persons in the group view) and relationship types (ego view).
EVIDENCE_STYLE: dict[str, dict[str, Any]] = {
    "case": {"color": "#444444", "dashes": False, "text": "in the same case"},
    "premises": {"color": "#ff7f0e", "dashes": False, "text": "seen at the same premises"},
    "phone": {"color": "#2ca02c", "dashes": True, "text": "use the same phone"},
    "vehicle": {"color": "#8c564b", "dashes": True, "text": "use the same vehicle"},
    "account": {"color": "#17becf", "dashes": True, "text": "use the same bank account"},
    "signal": {"color": "#bcbd22", "dashes": True, "text": "named in the same signal"},
    # Addresses and organisations (issue 20): drawn for any two persons tied to one, at any time
    # (the detection's address/employer/director evidence asks for overlapping periods too).
    "address": {"color": "#6a3d9a", "dashes": False, "text": "registered at the same address"},
    "organisation": {
        "color": "#e377c2",
        "dashes": True,
        "text": "work for, direct or own the same organisation",
    },
}

REL_STYLE: dict[str, dict[str, Any]] = {
    "SUSPECT_IN": {"color": "#d62728", "dashes": False, "text": "suspect in case"},
    "VICTIM_IN": {"color": "#1f77b4", "dashes": False, "text": "victim in case"},
    "SEEN_AT": {"color": "#ff7f0e", "dashes": False, "text": "seen at premises"},
    "USES": {"color": "#2ca02c", "dashes": True, "text": "uses identifier"},
    "CONCERNS": {"color": "#bcbd22", "dashes": True, "text": "signal concerns person"},
    "AT": {"color": "#999999", "dashes": True, "text": "located at (signal, case, organisation, premises)"},
    "IN": {"color": "#bbbbbb", "dashes": True, "text": "premises in municipality"},
    "TIED_TO": {"color": "#7f7f7f", "dashes": True, "text": "signal names case"},
    "REGISTERED_AT": {"color": "#6a3d9a", "dashes": False, "text": "registered at address"},
    "EMPLOYED_BY": {"color": "#e377c2", "dashes": True, "text": "works for organisation"},
    "DIRECTOR_OF": {"color": "#7b4173", "dashes": False, "text": "director of organisation"},
    "OWNS": {"color": "#a55194", "dashes": False, "text": "owns organisation"},
    # Person-to-person roles from case files: from the suspect to the victim.
    "EXPLOITED": {"color": "#b2182b", "dashes": False, "text": "exploited"},
    "RECRUITED": {"color": "#ef8a62", "dashes": True, "text": "recruited"},
    "TRANSPORTED": {"color": "#d6604d", "dashes": True, "text": "transported"},
    "CONTROLLED": {"color": "#67001f", "dashes": False, "text": "controlled"},
}


def rel_style(rel: str) -> dict[str, Any]:
    """The drawing style of a relationship type; a type without one (added to the schema later)
    is drawn grey and dashed, and still gets a legend line with its name."""
    return REL_STYLE.get(rel, {"color": "#aaaaaa", "dashes": True, "text": rel.lower().replace("_", " ")})


LABEL_STYLE: dict[str, dict[str, Any]] = {
    "Case": {"shape": "square", "color": "#555555", "size": 12, "text": "case"},
    "Signal": {"shape": "triangle", "color": "#bcbd22", "size": 11, "text": "signal"},
    "Premises": {"shape": "square", "color": "#ff7f0e", "size": 12, "text": "premises"},
    "Phone": {"shape": "diamond", "color": "#2ca02c", "size": 8, "text": "phone"},
    "Vehicle": {"shape": "diamond", "color": "#8c564b", "size": 8, "text": "vehicle"},
    "BankAccount": {"shape": "diamond", "color": "#17becf", "size": 8, "text": "bank account"},
    "Organisation": {"shape": "hexagon", "color": "#e377c2", "size": 12, "text": "organisation"},
    "Address": {"shape": "triangleDown", "color": "#6a3d9a", "size": 11, "text": "address"},
}

MOVE_COLOUR = "#6a3d9a"
BACKGROUND_DOT = "#cfcfcf"

# Distinct colours for up to 25 regions (safety regions are the largest level).
_PALETTE = [
    "#1b9e77",
    "#d95f02",
    "#7570b3",
    "#e7298a",
    "#66a61e",
    "#e6ab02",
    "#a6761d",
    "#1f78b4",
    "#b2df8a",
    "#fb9a99",
    "#cab2d6",
    "#ff7f00",
    "#6a3d9a",
    "#b15928",
    "#8dd3c7",
    "#bebada",
    "#fb8072",
    "#80b1d3",
    "#fdb462",
    "#b3de69",
    "#fccde5",
    "#bc80bd",
    "#ccebc5",
    "#ffed6f",
    "#999999",
]


def region_colours(codes: list[str]) -> dict[str, str]:
    """A stable colour per region code (by position in the sorted code list)."""
    return {code: _PALETTE[i % len(_PALETTE)] for i, code in enumerate(sorted(codes))}


def role_of(roles: set[str]) -> str:
    """The colour key of a person with these roles."""
    if "suspect" in roles and "victim" in roles:
        return "both"
    for role in ("suspect", "victim"):
        if role in roles:
            return role
    return "signalled"


def role_legend() -> dict[str, Any]:
    return {
        "title": "Roles",
        "items": [
            {"kind": "node", "shape": "dot", "color": ROLE_COLOURS["suspect"], "text": "suspect"},
            {"kind": "node", "shape": "dot", "color": ROLE_COLOURS["victim"], "text": "victim"},
            {"kind": "node", "shape": "dot", "color": ROLE_COLOURS["both"], "text": "suspect and victim"},
            {"kind": "node", "shape": "dot", "color": ROLE_COLOURS["signalled"], "text": "only in signals"},
        ],
    }
