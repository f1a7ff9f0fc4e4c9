"""The planted world: perpetrator groups, lone offenders, victims, itineraries and observations.

A *group* works at a sequence of *locations* (a municipality, optionally premises, and a period).
A victim of the group stays at a contiguous run of those locations; each stay is observed at least
once by a source row (a case row, a signal, an inspection or a CoMensha registration) dated inside
the stay, so that the victim's time-ordered observations trace its itinerary. Suspects are observed
at the same places through the group's cases and signals.

Cross-regional rule: a group is cross-regional when at least one of its victims moves between two
municipalities that lie in different police units (politie-eenheden). Cross-regional groups are
planted with consecutive locations in different units and every victim staying at two or more of
them; other groups (and lone offenders) keep all locations inside one unit.

Everything here is plain data; :mod:`synth.sources` renders it into source rows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from synth.identifiers import IdentifierFactory
from synth.names import make_name
from synth.places import BIG_CITIES, Geography

__all__ = [
    "LINK_ONLY_KINDS",
    "Address",
    "Event",
    "Organisation",
    "Person",
    "Plan",
    "Premises",
    "World",
    "day_iso",
]

FIRST_DAY = date(2021, 1, 1).toordinal()
LAST_DAY = date(2025, 12, 31).toordinal()
SHARED_KINDS: tuple[str, ...] = ("phone", "vehicle", "premises", "bank_account")
#: How a group planted to be found only through an address or an agency is tied together.
LINK_ONLY_KINDS: tuple[str, ...] = ("address", "agency")
REGISTER_SOURCES: tuple[str, ...] = ("brp_inschrijvingen", "arbeidsrelaties")

# Organisation names: (kind word, SBI section, name heads); the legal form is written per row.
_AGENCY_HEADS = ("Flex", "Uitzend", "Personeel", "Werk", "Inzet", "Staffing", "Jobs")
_ORDINARY_EMPLOYERS = (
    ("distributiecentrum", "H", ("Logistiek", "Distributie", "Transport")),
    ("kwekerij", "A", ("Kwekerij", "Tuinbouw", "Kassen")),
    ("vleesverwerking", "C", ("Vleesverwerking", "Slachterij")),
    ("schoonmaakbedrijf", "N", ("Schoonmaak", "Facilitair")),
    ("supermarkt", "G", ("Supermarkt", "Versmarkt")),
)
_LEGAL = ("B.V.", "B.V.", "V.O.F.", "")
_PREMISES = {
    "sexual": (
        ("massagesalon", ("Massagesalon", "Wellness", "Thai Massage")),
        ("club", ("Club", "Bar")),
        ("hotel", ("Hotel", "Pension")),
        ("woning", ("Woning",)),
    ),
    "labour": (
        ("carwash", ("Carwash", "Autowasstraat")),
        ("uitzendbureau", ("Uitzendbureau", "Flexwerk")),
        ("kwekerij", ("Kwekerij", "Tuinbouwbedrijf")),
        ("nagelstudio", ("Nagelstudio",)),
        ("distributiecentrum", ("Distributiecentrum", "Logistiek")),
        ("restaurant", ("Restaurant",)),
    ),
    "criminal": (
        ("woning", ("Woning",)),
        ("winkel", ("Minimarkt", "Belwinkel")),
        ("loods", ("Bedrijfsloods", "Opslag")),
    ),
}
_PREMISES_WORDS = (
    "Lotus",
    "De Zon",
    "Oase",
    "Paradijs",
    "Centrum",
    "Noord",
    "Express",
    "Royal",
    "De Linde",
    "Golden",
    "Sunrise",
    "Het Anker",
    "Bella",
    "Star",
    "Jade",
    "Prima",
)
_STREETS = (
    "Kerkstraat",
    "Dorpsstraat",
    "Stationsweg",
    "Molenweg",
    "Industrieweg",
    "Havenkade",
    "Lindelaan",
    "Schoolstraat",
    "Julianastraat",
    "Nieuwstraat",
)
_NAT_BY_TYPE = {
    "sexual": (("NLD", 5), ("ROU", 4), ("BGR", 3), ("HUN", 3), ("NGA", 3), ("POL", 1)),
    "labour": (("POL", 5), ("ROU", 4), ("BGR", 3), ("NLD", 2), ("HUN", 2), ("VNM", 1)),
    "criminal": (("NLD", 5), ("MAR", 3), ("VNM", 3), ("ROU", 2), ("POL", 1)),
}
_SUSPECT_NAT = (("NLD", 6), ("MAR", 2), ("ROU", 2), ("BGR", 2), ("HUN", 1), ("POL", 1), ("NGA", 1))


def rng_choice_addition(rng: random.Random) -> str:
    """A house number addition: mostly none, else a letter, a floor or ``BIS``."""
    if rng.random() < 0.75:
        return ""
    return rng.choice(("A", "B", "C", "1", "2", "H", "BIS"))


def day_iso(day: int) -> str:
    """ISO date of a day ordinal."""
    return date.fromordinal(day).isoformat()


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    total = sum(w for _, w in pairs)
    r = rng.random() * total
    for value, w in pairs:
        r -= w
        if r < 0:
            return value
    return pairs[-1][0]


@dataclass(slots=True)
class Person:
    """A synthetic person with clear attributes (all made up)."""

    pid: str
    first: str
    particle: str
    last: str
    gender: str
    birth: int
    nationality: str
    phone: str
    plate: str
    iban: str


@dataclass(slots=True)
class Premises:
    """A business or address where exploitation happens."""

    name: str
    kind: str
    postcode: str
    code: str


@dataclass(slots=True)
class Address:
    """A full address: where persons are registered (municipal population register).

    ``kind`` is ``group`` (a group's victims are registered there), ``innocent_crowded`` (many
    persons at once for an innocent reason: students, seasonal workers with proper housing) or
    ``ordinary`` (a household).
    """

    aid: str
    postcode: str
    number: int
    addition: str
    code: str
    kind: str
    group_id: str = ""


@dataclass(slots=True)
class Organisation:
    """A company: a group's employment agency (``kind`` group) or an ordinary employer."""

    oid: str
    kvk: str
    name: str
    legal: str
    org_kind: str
    sector: str
    code: str
    kind: str
    group_id: str = ""


@dataclass(slots=True)
class Event:
    """One planned source row: who (if anyone), in which role, where, when, and what it carries."""

    source: str
    person: Person | None
    role: str
    code: str
    day: int
    exploitation: str
    group_id: str = ""
    case_no: str = ""
    premises: Premises | None = None
    phone: str = ""
    plate: str = ""
    iban: str = ""
    signal_no: str = ""
    protected: bool = False
    address: Address | None = None
    organisation: Organisation | None = None
    tie: str = ""
    from_day: int = 0
    to_day: int = 0


@dataclass
class Plan:
    """Everything one group (or orphan batch) contributes: row blocks and truth rows."""

    blocks: list[list[Event]] = field(default_factory=list)
    groups: list[tuple[str, str, str]] = field(default_factory=list)
    facts: list[tuple[str, str, str, str, int]] = field(default_factory=list)
    movements: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    shared: list[tuple[str, str, str, str]] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    organisations: list[Organisation] = field(default_factory=list)
    link_only: list[tuple[str, str, str]] = field(default_factory=list)
    cross_regional: int = 0
    lone: int = 0


class World:
    """Plants groups, lone offenders and orphan signals, one at a time (constant memory)."""

    def __init__(self, rng: random.Random, geo: Geography, ids: IdentifierFactory) -> None:
        self.rng = rng
        self.geo = geo
        self.ids = ids
        self._person = 0
        self._address = 0
        self._organisation = 0
        # Victims of the last groups: some find an ordinary job or room afterwards (the innocent
        # employers and crowded addresses then hold members of different groups).
        self._recent: list[Person] = []
        self._big_by_unit = {u: [c for c in BIG_CITIES if geo.unit[c] == u] for u in geo.unit_codes}

    @property
    def persons(self) -> int:
        """How many persons were made so far."""
        return self._person

    # -- people and places ------------------------------------------------------------------
    def person(self, role: str, nationality: str | None = None) -> Person:
        rng = self.rng
        self._person += 1
        nat = nationality or _weighted(rng, _SUSPECT_NAT)
        gender = "V" if (role == "victim" and rng.random() < 0.75) else ("M" if rng.random() < 0.8 else "V")
        first, particle, last = make_name(rng, nat, gender)
        if role == "victim":
            birth = rng.randint(date(1984, 1, 1).toordinal(), date(2006, 6, 30).toordinal())
        else:
            birth = rng.randint(date(1962, 1, 1).toordinal(), date(2003, 12, 31).toordinal())
        plate = self.ids.plate() if role == "suspect" and rng.random() < 0.5 else ""
        iban = self.ids.iban(rng) if rng.random() < (0.5 if role == "suspect" else 0.3) else ""
        return Person(
            f"P{self._person:07d}",
            first,
            particle,
            last,
            gender,
            birth,
            nat,
            self.ids.phone(nat, rng),
            plate,
            iban,
        )

    def municipality(self, unit: str) -> str:
        rng = self.rng
        big = self._big_by_unit[unit]
        if big and rng.random() < 0.35:
            return rng.choice(big)
        return rng.choice(self.geo.by_unit[unit])

    def premises(self, exploitation: str, code: str) -> Premises:
        rng = self.rng
        kind, words = rng.choice(_PREMISES[exploitation])
        if kind == "woning":
            name = f"{rng.choice(_STREETS)} {rng.randint(1, 180)}"
        else:
            name = f"{rng.choice(words)} {rng.choice(_PREMISES_WORDS)}"
        letters = "ABCDEGHJKLMNPRTVWXZ"
        postcode = f"{rng.randint(1000, 9999)} {rng.choice(letters[1:])}{rng.choice(letters)}"
        return Premises(name, kind, postcode, code)

    # -- groups -----------------------------------------------------------------------------
    def plant_group(
        self, gid: str, *, lone: bool, cross: bool, force_shared: str | None, link_only: str | None = None
    ) -> Plan:
        """Plant one group (or lone offender) with its victims, locations, cases and signals.

        ``link_only`` (``address`` or ``agency``) plants a group of two or three *cells*, one
        suspect each with victims of its own, that share no case, inspection, phone, vehicle,
        account or premises: only the address where the cells' victims are registered, or the
        employment agency that the suspects run and that employs the victims, ties them.
        """
        rng = self.rng
        geo = self.geo
        plan = Plan()
        exploitation = _weighted(rng, (("sexual", 45), ("labour", 35), ("criminal", 20)))
        if link_only == "agency":
            exploitation = "labour"
        elif link_only == "address":
            exploitation = rng.choice(("sexual", "labour"))
        if lone:
            n_sus, n_vic = 1, rng.choice((1, 1, 2))
        elif link_only:
            n_sus = rng.choice((2, 2, 3))
            n_vic = n_sus + rng.randint(1, n_sus + 1)
        else:
            n_sus = min(15, 2 + int(rng.expovariate(0.45)))
            n_vic = min(12, 1 + int(rng.expovariate(0.5)) + (1 if exploitation == "labour" else 0))
        # A link-only group's victim belongs to one suspect's cell.
        cell = [vi % n_sus for vi in range(n_vic)] if link_only else [-1] * n_vic
        shared: set[str] = set()
        if not lone and not link_only:
            shared = {k for k in SHARED_KINDS if rng.random() < 0.4}
            if force_shared:
                shared.add(force_shared)
        # Locations: consecutive locations of a cross-regional group lie in different police units.
        home = rng.choice(geo.unit_codes)
        if cross:
            n_loc = rng.choice((2, 2, 3, 3, 4))
            units = [home]
            while len(units) < n_loc:
                units.append(rng.choice([u for u in geo.unit_codes if u != units[-1]]))
        else:
            n_loc = rng.choice((1, 2, 2, 3)) if not lone else rng.choice((1, 1, 2))
            if link_only:
                n_loc = 1
            units = [home] * n_loc
        codes: list[str] = []
        for u in units:
            for _ in range(10):
                c = self.municipality(u)
                if not codes or c != codes[-1]:
                    break
            if codes and c == codes[-1]:
                c = next(x for x in geo.by_unit[u] if x != codes[-1])
            codes.append(c)
        durations = [rng.randint(45, 240) for _ in codes]
        start = rng.randint(FIRST_DAY, LAST_DAY - sum(durations) - 1)
        starts = []
        for d in durations:
            starts.append(start)
            start += d
        ends = [s + d for s, d in zip(starts, durations, strict=True)]  # exclusive
        prem = [self.premises(exploitation, c) if "premises" in shared else None for c in codes]

        suspects = [self.person("suspect") for _ in range(n_sus)]
        vic_nat = _weighted(rng, _NAT_BY_TYPE[exploitation])
        victims = [self.person("victim", vic_nat if rng.random() < 0.7 else None) for _ in range(n_vic)]
        for p in suspects:
            plan.groups.append((p.pid, gid, "suspect"))
        for p in victims:
            plan.groups.append((p.pid, gid, "victim"))

        # Victim stays: a contiguous run of locations.
        stays: list[list[int]] = []
        first_day: list[int] = []
        for _ in victims:
            if cross and n_loc >= 2:
                a = rng.randrange(0, n_loc - 1)
                b = rng.randrange(a + 1, n_loc)
            else:
                a = rng.randrange(0, n_loc)
                b = rng.randrange(a, n_loc)
            stays.append(list(range(a, b + 1)))
            first_day.append(starts[a] + rng.randint(0, durations[a] // 3))

        def stay_window(vi: int, loc: int) -> tuple[int, int]:
            lo = first_day[vi] if loc == stays[vi][0] else starts[loc]
            return lo, ends[loc]

        obs: dict[tuple[int, int], list[Event]] = {}  # (victim index, location) -> events
        sus_events: dict[int, list[Event]] = {}

        def add_victim_event(ev: Event, vi: int, loc: int) -> None:
            obs.setdefault((vi, loc), []).append(ev)

        # Cases: at most locations, sometimes two; every suspect is in at least one case.
        cases: list[tuple[int, list[Event], str, int]] = []
        for loc in range(n_loc):
            n_cases = (1 if rng.random() < 0.8 else 0) + (1 if rng.random() < 0.25 else 0)
            if loc == 0 and not any(True for _ in cases):
                n_cases = max(n_cases, 1)
            # A link-only group: one case per cell, with that cell's suspect and victims only.
            case_cells = list(range(n_sus)) if link_only else [-1] * n_cases
            for this_cell in case_cells:
                day = rng.randint(starts[loc], ends[loc] - 1)
                if link_only:
                    # The cell's case is about its own victims: dated when all of them are there.
                    present_from = max(first_day[vi] for vi in range(n_vic) if cell[vi] == this_cell)
                    day = rng.randint(present_from, ends[loc] - 1)
                case_no = self.ids.case_number(geo.unit[codes[loc]], date.fromordinal(day).year)
                present = [i for i in range(n_sus) if rng.random() < (0.8 if i == 0 else 0.45)] or [0]
                if link_only:
                    present = [this_cell]
                rows: list[Event] = []
                for i in present:
                    ev = Event(
                        "politie_zaken",
                        suspects[i],
                        "suspect",
                        codes[loc],
                        day,
                        exploitation,
                        gid,
                        case_no,
                        prem[loc],
                    )
                    rows.append(ev)
                    sus_events.setdefault(i, []).append(ev)
                for vi in range(n_vic):
                    lo, hi = stay_window(vi, loc) if loc in stays[vi] else (0, 0)
                    if lo <= day < hi and cell[vi] == this_cell:
                        ev = Event(
                            "politie_zaken",
                            victims[vi],
                            "victim",
                            codes[loc],
                            day,
                            exploitation,
                            gid,
                            case_no,
                            prem[loc],
                        )
                        rows.append(ev)
                        add_victim_event(ev, vi, loc)
                if link_only:
                    # The case is how a cell's suspect reaches the victims whose address or
                    # agency ties the cells: kept free of noise like the tie itself.
                    for ev in rows:
                        ev.protected = True
                cases.append((loc, rows, case_no, day))
                plan.blocks.append(rows)
        for i in range(n_sus):
            if i not in sus_events:
                loc, rows, case_no, day = rng.choice(cases)
                ev = Event(
                    "politie_zaken",
                    suspects[i],
                    "suspect",
                    codes[loc],
                    day,
                    exploitation,
                    gid,
                    case_no,
                    prem[loc],
                )
                rows.append(ev)
                sus_events[i] = [ev]

        # Labour groups are inspected at their premises: employer plus the workers found there.
        if exploitation == "labour" or rng.random() < 0.1:
            for loc in range(n_loc):
                if rng.random() < 0.6:
                    day = rng.randint(starts[loc], ends[loc] - 1)
                    ins = self.ids.inspection_number(date.fromordinal(day).year)
                    site = prem[loc] or self.premises("labour", codes[loc])
                    boss = rng.randrange(n_sus)
                    rows = [
                        Event(
                            "inspectie_arbeid",
                            suspects[boss],
                            "suspect",
                            codes[loc],
                            day,
                            exploitation,
                            gid,
                            premises=site,
                            signal_no=ins,
                        )
                    ]
                    for vi in range(n_vic):
                        lo, hi = stay_window(vi, loc) if loc in stays[vi] else (0, 0)
                        if lo <= day < hi and rng.random() < 0.8 and cell[vi] == (boss if link_only else -1):
                            ev = Event(
                                "inspectie_arbeid",
                                victims[vi],
                                "victim",
                                codes[loc],
                                day,
                                exploitation,
                                gid,
                                premises=site,
                                signal_no=ins,
                            )
                            rows.append(ev)
                            add_victim_event(ev, vi, loc)
                    plan.blocks.append(rows)

        # Every victim stay observed at least once; often more (signals, CoMensha registrations).
        for vi, v in enumerate(victims):
            registered = False
            for loc in stays[vi]:
                lo, hi = stay_window(vi, loc)
                need = (vi, loc) not in obs
                extra = rng.random() < 0.5
                for _ in range(int(need) + int(extra)):
                    day = rng.randint(lo, hi - 1)
                    if not registered and rng.random() < 0.45:
                        registered = True
                        ev = Event("comensha_registraties", v, "victim", codes[loc], day, exploitation, gid)
                    else:
                        tied = [
                            c
                            for c in cases
                            if c[0] == loc and c[3] <= day and any(e.person is v for e in c[1])
                        ]
                        case_no = tied[0][2] if tied and rng.random() < 0.5 else ""
                        ev = Event(
                            "gemeente_signalen",
                            v,
                            rng.choice(("victim", "victim", "signalled")),
                            codes[loc],
                            day,
                            exploitation,
                            gid,
                            case_no,
                            prem[loc] if rng.random() < 0.6 else None,
                        )
                    add_victim_event(ev, vi, loc)
                    plan.blocks.append([ev])

        # Shared identifiers and who uses them.
        users: dict[str, list[Person]] = {}
        values: dict[str, str] = {}
        if "phone" in shared:
            users["phone"] = suspects[: max(2, min(3, n_sus))]
            values["phone"] = self.ids.phone("NLD", rng)
        if "vehicle" in shared:
            users["vehicle"] = suspects[: max(2, min(3, n_sus))]
            values["vehicle"] = self.ids.plate()
        if "bank_account" in shared:
            with_case_row = {id(e.person) for b in plan.blocks for e in b if e.source == "politie_zaken"}
            users["bank_account"] = [*suspects[:2], *[v for v in victims[:1] if id(v) in with_case_row]]
            values["bank_account"] = self.ids.iban(rng)

        # Loose signals about suspects, and person-less signals about a shared phone, car or premises.
        for i, s in enumerate(suspects):
            if rng.random() < 0.3:
                loc = rng.randrange(n_loc)
                ev = Event(
                    "gemeente_signalen",
                    s,
                    rng.choice(("suspect", "signalled")),
                    codes[loc],
                    rng.randint(starts[loc], ends[loc] - 1),
                    exploitation,
                    gid,
                    premises=prem[loc] if rng.random() < 0.5 else None,
                )
                sus_events[i].append(ev)
                plan.blocks.append([ev])
        for kind in sorted(shared):
            if rng.random() < 0.5:
                loc = rng.randrange(n_loc)
                ev = Event(
                    "gemeente_signalen",
                    None,
                    "",
                    codes[loc],
                    rng.randint(starts[loc], ends[loc] - 1),
                    exploitation,
                    gid,
                    premises=prem[loc],
                )
                if kind == "phone":
                    ev.phone = values["phone"]
                elif kind == "vehicle":
                    ev.plate = values["vehicle"]
                elif kind == "bank_account":
                    continue  # municipalities do not see bank accounts
                plan.blocks.append([ev])

        # Fill per-row identifiers; each user of a shared identifier carries it on its first case row.
        forced: dict[int, dict[str, str]] = {}
        field_of = {"phone": "phone", "vehicle": "plate", "bank_account": "iban"}
        first_case_row: dict[int, Event] = {}
        for blk in plan.blocks:
            for e in blk:
                if e.source == "politie_zaken" and e.person is not None:
                    first_case_row.setdefault(id(e.person), e)
        for kind, people in users.items():
            for p in people:
                first = first_case_row[id(p)]
                forced.setdefault(id(first), {})[field_of[kind]] = values[kind]
                first.protected = True
            members = "|".join(p.pid for p in people)
            plan.shared.append((gid, kind, values[kind], members))
        if "premises" in shared:
            at_site: dict[int, set[str]] = {}
            for blk in plan.blocks:
                for e in blk:
                    if e.premises is not None and e.person is not None:
                        at_site.setdefault(id(e.premises), set()).add(e.person.pid)
            for site_or_none in prem:
                if site_or_none is None:
                    continue
                site = site_or_none
                who = sorted(at_site.get(id(site), ()))
                if len(who) >= 2:
                    plan.shared.append((gid, "premises", f"{site.name}|{site.postcode}", "|".join(who)))
        user_ids = {k: {id(p) for p in users.get(k, ())} for k in ("phone", "vehicle", "bank_account")}
        for block in plan.blocks:
            for ev in block:
                who_p = ev.person
                if who_p is None:
                    continue
                p = who_p
                f = forced.get(id(ev), {})
                ev.phone = f.get("phone", "")
                ev.plate = f.get("plate", "")
                ev.iban = f.get("iban", "")
                if not ev.phone and rng.random() < 0.7:
                    use_shared = id(p) in user_ids["phone"] and rng.random() < 0.5
                    ev.phone = values["phone"] if use_shared else p.phone
                if not ev.plate and rng.random() < 0.6:
                    use_shared = id(p) in user_ids["vehicle"] and rng.random() < 0.5
                    ev.plate = values["vehicle"] if use_shared else p.plate
                if not ev.iban and rng.random() < 0.5:
                    use_shared = id(p) in user_ids["bank_account"] and rng.random() < 0.5
                    ev.iban = values["bank_account"] if use_shared else p.iban

        # Movements: first observation at each stay; that row is protected from date/place noise.
        regions = sorted({geo.unit[c] for c in codes})
        crossing = False
        for vi, v in enumerate(victims):
            firsts: list[tuple[int, int]] = []
            for loc in stays[vi]:
                evs = obs[(vi, loc)]
                first_ev = min(evs, key=lambda e: e.day)
                first_ev.protected = True
                firsts.append((loc, first_ev.day))
            for (la, _), (lb, db) in zip(firsts, firsts[1:], strict=False):
                if codes[la] != codes[lb]:
                    plan.movements.append((v.pid, codes[la], codes[lb], day_iso(db), gid))
                    crossing = crossing or geo.unit[codes[la]] != geo.unit[codes[lb]]
        if not lone:
            self._links(
                plan, gid, exploitation, codes, starts, ends, suspects, victims, stays, first_day, link_only
            )
            self._recent = [*self._recent, *victims][-40:]
        plan.facts.append((gid, "true" if crossing else "false", "|".join(regions), exploitation, n_sus))
        plan.cross_regional = int(crossing)
        plan.lone = int(lone)
        return plan

    # -- addresses, organisations and the two registers ---------------------------------------
    def address(self, kind: str, code: str, group_id: str = "") -> Address:
        """A new address (never shared by accident) in a municipality."""
        self._address += 1
        postcode, number = self.ids.address()
        addition = rng_choice_addition(self.rng)
        return Address(f"A{self._address:06d}", postcode, number, addition, code, kind, group_id)

    def organisation(self, kind: str, code: str, group_id: str = "") -> Organisation:
        """A group's employment agency (``kind`` group) or an ordinary employer (``ordinary``)."""
        rng = self.rng
        self._organisation += 1
        if kind == "group":
            org_kind, sector = "uitzendbureau", "N"
            name = f"{rng.choice(_AGENCY_HEADS)} {rng.choice(_PREMISES_WORDS)}"
        else:
            org_kind, sector, heads = rng.choice(_ORDINARY_EMPLOYERS)
            name = f"{rng.choice(heads)} {rng.choice(_PREMISES_WORDS)}"
        return Organisation(
            f"O{self._organisation:06d}",
            self.ids.kvk(),
            name,
            rng.choice(_LEGAL),
            org_kind,
            sector,
            code,
            kind,
            group_id,
        )

    @staticmethod
    def _register(
        source: str,
        person: Person,
        group_id: str,
        code: str,
        start: int,
        end: int,
        *,
        address: Address | None = None,
        organisation: Organisation | None = None,
        tie: str = "",
        protected: bool = False,
    ) -> list[Event]:
        """One register row (a block of its own): a registration at an address or a job."""
        return [
            Event(
                source,
                person,
                "",
                code,
                start,
                "",
                group_id,
                protected=protected,
                address=address,
                organisation=organisation,
                tie=tie,
                from_day=start,
                to_day=end,
            )
        ]

    def _links(
        self,
        plan: Plan,
        gid: str,
        exploitation: str,
        codes: list[str],
        starts: list[int],
        ends: list[int],
        suspects: list[Person],
        victims: list[Person],
        stays: list[list[int]],
        first_day: list[int],
        link_only: str | None,
    ) -> None:
        """The group's agency and the addresses of its victims, as rows of the two registers.

        The rows that tie a link-only group together are protected from noise, so that the one
        tie it has stays readable (as the first observation of a victim stay is).
        """
        rng = self.rng
        protect = link_only is not None
        if link_only == "agency" or (link_only is None and exploitation == "labour" and rng.random() < 0.6):
            agency = self.organisation("group", codes[0], gid)
            plan.organisations.append(agency)
            n_officers = len(suspects) if link_only else 1 + int(len(suspects) > 1 and rng.random() < 0.5)
            for i, s in enumerate(suspects[:n_officers]):
                tie = "directeur" if i == 0 else rng.choice(("eigenaar", "bestuurder"))
                start = starts[0] - rng.randint(60, 900)
                plan.blocks.append(
                    self._register(
                        "arbeidsrelaties",
                        s,
                        gid,
                        codes[0],
                        start,
                        0,
                        organisation=agency,
                        tie=tie,
                        protected=protect,
                    )
                )
            for vi, v in enumerate(victims):
                lo = first_day[vi] - rng.randint(0, 20)
                hi = ends[stays[vi][-1]] + rng.randint(-10, 20)
                plan.blocks.append(
                    self._register(
                        "arbeidsrelaties",
                        v,
                        gid,
                        codes[0],
                        lo,
                        hi,
                        organisation=agency,
                        tie=rng.choice(("uitzendkracht", "uitzendkracht", "werknemer")),
                        protected=protect,
                    )
                )
            if link_only:
                plan.link_only.append((gid, "agency", agency.oid))
        share_rate = {"labour": 0.7, "sexual": 0.5, "criminal": 0.25}[exploitation]
        if link_only == "address" or (link_only is None and rng.random() < share_rate):
            for loc, code in enumerate(codes):
                here = [vi for vi in range(len(victims)) if loc in stays[vi]]
                if not here:
                    continue
                addr = self.address("group", code, gid)
                plan.addresses.append(addr)
                for vi in here:
                    lo = (first_day[vi] if loc == stays[vi][0] else starts[loc]) - rng.randint(0, 10)
                    hi = ends[loc] + rng.randint(0, 30)
                    plan.blocks.append(
                        self._register(
                            "brp_inschrijvingen",
                            victims[vi],
                            gid,
                            code,
                            lo,
                            hi,
                            address=addr,
                            protected=protect,
                        )
                    )
                if exploitation == "labour":
                    # Workers housed by the group that no source names as victims: the house
                    # is crowded, as the municipal address signal looks for.
                    for _ in range(rng.randint(2, 7)):
                        lodger = self.person("victim", rng.choice(("POL", "ROU", "BGR")))
                        lo = starts[loc] + rng.randint(0, 30)
                        plan.blocks.append(
                            self._register(
                                "brp_inschrijvingen",
                                lodger,
                                gid,
                                code,
                                lo,
                                ends[loc] + rng.randint(0, 30),
                                address=addr,
                            )
                        )
                if exploitation == "sexual" and rng.random() < 0.3:
                    plan.blocks.append(
                        self._register(
                            "brp_inschrijvingen", suspects[0], gid, code, starts[loc], ends[loc], address=addr
                        )
                    )
                if link_only:
                    plan.link_only.append((gid, "address", addr.aid))
        # Suspects' own households (ordinary addresses, sometimes with an innocent partner).
        for s in suspects:
            if rng.random() < 0.35:
                code = rng.choice(codes)
                home = self.address("ordinary", code)
                plan.addresses.append(home)
                since = starts[0] - rng.randint(200, 3000)
                plan.blocks.append(self._register("brp_inschrijvingen", s, "", code, since, 0, address=home))
                if rng.random() < 0.4:
                    partner = self.person("resident")
                    plan.blocks.append(
                        self._register("brp_inschrijvingen", partner, "", code, since, 0, address=home)
                    )

    def plant_innocents(self) -> Plan:
        """Crowded but innocent addresses and ordinary employers, for the precision of the new evidence.

        Students share a house, seasonal workers live in proper (registered) housing, an ordinary
        employer has many employees; now and then a former victim of a planted group lives or
        works there too, as victims do after they leave a group.
        """
        rng = self.rng
        plan = Plan()
        r = rng.random()
        if r < 0.2:
            students = rng.random() < 0.5
            code = rng.choice(BIG_CITIES) if students else rng.choice(self.geo.codes)
            addr = self.address("innocent_crowded", code)
            plan.addresses.append(addr)
            n = rng.randint(5, 9) if students else rng.randint(7, 14)
            base = rng.randint(FIRST_DAY, LAST_DAY - 400)
            for _ in range(n):
                p = self.person("victim", "NLD" if students else rng.choice(("POL", "ROU", "BGR")))
                if students:
                    lo = base + rng.randint(-300, 200)
                    hi = lo + rng.randint(300, 1200)
                else:
                    lo = base + rng.randint(0, 30)
                    hi = lo + rng.randint(90, 200)
                plan.blocks.append(
                    self._register("brp_inschrijvingen", p, "", code, lo, min(hi, LAST_DAY), address=addr)
                )
            if self._recent and rng.random() < 0.3:
                v = rng.choice(self._recent)
                lo = base + rng.randint(0, 60)
                plan.blocks.append(
                    self._register(
                        "brp_inschrijvingen", v, "", code, lo, min(lo + 200, LAST_DAY), address=addr
                    )
                )
        elif r < 0.35:
            code = rng.choice(self.geo.codes)
            org = self.organisation("ordinary", code)
            plan.organisations.append(org)
            boss = self.person("resident")
            plan.blocks.append(
                self._register(
                    "arbeidsrelaties",
                    boss,
                    "",
                    code,
                    FIRST_DAY - rng.randint(100, 3000),
                    0,
                    organisation=org,
                    tie=rng.choice(("directeur", "eigenaar")),
                )
            )
            staff: list[Person] = [self.person("resident") for _ in range(rng.randint(8, 20))]
            if self._recent and rng.random() < 0.3:
                staff.extend(rng.sample(self._recent, min(2, len(self._recent))))
            for p in staff:
                lo = rng.randint(FIRST_DAY - 700, LAST_DAY - 60)
                hi = lo + rng.randint(60, 1500)
                plan.blocks.append(
                    self._register(
                        "arbeidsrelaties",
                        p,
                        "",
                        code,
                        lo,
                        0 if hi > LAST_DAY else hi,
                        organisation=org,
                        tie=rng.choice(("werknemer", "werknemer", "medewerker")),
                    )
                )
        return plan

    def plant_orphans(self, n: int) -> Plan:
        """Signals and registrations that belong to no group: other people, other premises."""
        rng = self.rng
        plan = Plan()
        for _ in range(n):
            code = rng.choice(self.geo.codes) if rng.random() < 0.7 else rng.choice(BIG_CITIES)
            day = rng.randint(FIRST_DAY, LAST_DAY)
            exploitation = _weighted(rng, (("sexual", 45), ("labour", 35), ("criminal", 20)))
            r = rng.random()
            if r < 0.55:
                p = self.person(rng.choice(("victim", "suspect", "signalled")))
                site = self.premises(exploitation, code) if rng.random() < 0.4 else None
                ev = Event(
                    "gemeente_signalen",
                    p,
                    rng.choice(("signalled", "victim", "suspect")),
                    code,
                    day,
                    exploitation,
                    premises=site,
                    phone=p.phone if rng.random() < 0.6 else "",
                    plate=p.plate,
                )
                plan.blocks.append([ev])
            elif r < 0.75:
                ev = Event(
                    "gemeente_signalen",
                    None,
                    "",
                    code,
                    day,
                    exploitation,
                    premises=self.premises(exploitation, code),
                )
                plan.blocks.append([ev])
            elif r < 0.9:
                ins = self.ids.inspection_number(date.fromordinal(day).year)
                prem = self.premises("labour", code)
                rows = [
                    Event("inspectie_arbeid", None, "", code, day, "labour", premises=prem, signal_no=ins)
                ]
                if rng.random() < 0.5:
                    rows = []
                    for _ in range(rng.randint(1, 3)):
                        w = self.person("victim")
                        rows.append(
                            Event(
                                "inspectie_arbeid",
                                w,
                                "signalled",
                                code,
                                day,
                                "labour",
                                premises=prem,
                                signal_no=ins,
                                phone=w.phone if rng.random() < 0.5 else "",
                            )
                        )
                plan.blocks.append(rows)
            else:
                p = self.person("victim")
                plan.blocks.append(
                    [
                        Event(
                            "comensha_registraties",
                            p,
                            "victim",
                            code,
                            day,
                            exploitation,
                            phone=p.phone if rng.random() < 0.5 else "",
                        )
                    ]
                )
        return plan
