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

__all__ = ["Event", "Person", "Plan", "Premises", "World", "day_iso"]

FIRST_DAY = date(2021, 1, 1).toordinal()
LAST_DAY = date(2025, 12, 31).toordinal()
SHARED_KINDS: tuple[str, ...] = ("phone", "vehicle", "premises", "bank_account")

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


@dataclass
class Plan:
    """Everything one group (or orphan batch) contributes: row blocks and truth rows."""

    blocks: list[list[Event]] = field(default_factory=list)
    groups: list[tuple[str, str, str]] = field(default_factory=list)
    facts: list[tuple[str, str, str, str, int]] = field(default_factory=list)
    movements: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    shared: list[tuple[str, str, str, str]] = field(default_factory=list)
    cross_regional: int = 0
    lone: int = 0


class World:
    """Plants groups, lone offenders and orphan signals, one at a time (constant memory)."""

    def __init__(self, rng: random.Random, geo: Geography, ids: IdentifierFactory) -> None:
        self.rng = rng
        self.geo = geo
        self.ids = ids
        self._person = 0
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
    def plant_group(self, gid: str, *, lone: bool, cross: bool, force_shared: str | None) -> Plan:
        """Plant one group (or lone offender) with its victims, locations, cases and signals."""
        rng = self.rng
        geo = self.geo
        plan = Plan()
        exploitation = _weighted(rng, (("sexual", 45), ("labour", 35), ("criminal", 20)))
        if lone:
            n_sus, n_vic = 1, rng.choice((1, 1, 2))
        else:
            n_sus = min(15, 2 + int(rng.expovariate(0.45)))
            n_vic = min(12, 1 + int(rng.expovariate(0.5)) + (1 if exploitation == "labour" else 0))
        shared: set[str] = set()
        if not lone:
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
            for _ in range(n_cases):
                day = rng.randint(starts[loc], ends[loc] - 1)
                case_no = self.ids.case_number(geo.unit[codes[loc]], date.fromordinal(day).year)
                present = [i for i in range(n_sus) if rng.random() < (0.8 if i == 0 else 0.45)] or [0]
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
                    if lo <= day < hi:
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
                        if lo <= day < hi and rng.random() < 0.8:
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
        plan.facts.append((gid, "true" if crossing else "false", "|".join(regions), exploitation, n_sus))
        plan.cross_regional = int(crossing)
        plan.lone = int(lone)
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
