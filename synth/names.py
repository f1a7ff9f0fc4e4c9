"""Made-up person names, built from parts so that nobody in the data is a real person.

A first name is a first part plus an ending, a surname a stem plus an ending (per nationality);
Dutch surnames sometimes get a particle (``van der``, ``de``, ``ter``). No list of real people is
used: the parts are syllables, and most combinations are names nobody carries. Every character is
in Windows-1252 so that every source encoding can hold every name.
"""

from __future__ import annotations

import random

__all__ = ["NAME_PARTS", "NATIONALITIES", "PARTICLES", "make_name", "spelling_variant"]

# nationality (ISO 3166 alpha-3) -> (male first parts, female first parts, first endings m, f,
#                                     surname stems, surname endings m, surname endings f)
NAME_PARTS: dict[str, tuple[tuple[str, ...], ...]] = {
    "NLD": (
        (
            "Jan",
            "Piet",
            "Kees",
            "Wim",
            "Hen",
            "Gert",
            "Ruud",
            "Dirk",
            "Bas",
            "Tijs",
            "Maar",
            "Joos",
            "Rem",
            "Daan",
            "Lars",
            "Bram",
            "Stijn",
            "Koen",
            "Sjoerd",
            "Frits",
        ),
        (
            "An",
            "Mar",
            "Lie",
            "Fleur",
            "Ev",
            "Saar",
            "Nien",
            "Lot",
            "Jo",
            "Rie",
            "Dien",
            "Mir",
            "El",
            "Ing",
            "Wil",
            "Gee",
            "Tes",
            "Noor",
            "Ma",
            "Fem",
        ),
        ("", "je", "ke", "o", "ert", "ien", "us", "ko", "mer", "tse"),
        ("ke", "na", "ne", "tje", "a", "ly", "nie", "lien", "mijn", "ja"),
        (
            "Berg",
            "Dijk",
            "Veld",
            "Hout",
            "Broek",
            "Molen",
            "Vis",
            "Bakk",
            "Smed",
            "Hoek",
            "Bos",
            "Wiel",
            "Lind",
            "Meer",
            "Horst",
            "Kamp",
            "Leeuw",
            "Brink",
            "Graaf",
            "Water",
            "Pol",
            "Zand",
        ),
        ("", "er", "man", "stra", "ink", "ing", "ers", "hof", "kamp", "sma", "ema", "huis", "land"),
        (),
    ),
    "ROU": (
        ("Ion", "Vasil", "Andr", "Mih", "Cost", "Dor", "Flor", "Mar", "Ovid", "Rad", "Sor", "Tud"),
        ("Ioan", "Mar", "Elen", "Andre", "Crist", "Flor", "Gabri", "Lumin", "Dan", "Roxan", "Sim"),
        ("", "e", "ei", "u", "ian", "in", "el"),
        ("a", "ia", "ela", "ina", "uta"),
        ("Pop", "Ion", "Dum", "Stan", "Rad", "Munt", "Bal", "Const", "Lup", "Vlad", "Georg", "Nic"),
        ("escu", "eanu", "ache", "oiu", "an", "ea"),
        (),
    ),
    "BGR": (
        ("Ivan", "Dimit", "Georg", "Stoy", "Petk", "Nikol", "Tod", "Kras", "Val", "Bor"),
        ("Ivan", "Mari", "Desisl", "Petr", "Rad", "Tsvet", "Yord", "Mil", "Gal", "Ves"),
        ("", "ar", "o", "an", "in"),
        ("a", "ka", "ina", "elina", "ana"),
        ("Ivan", "Petr", "Dimitr", "Georgi", "Stoyan", "Kol", "Tod", "Hrist", "Angel", "Mar"),
        ("ov", "ev", "ski"),
        ("ova", "eva", "ska"),
    ),
    "POL": (
        ("Piot", "Krzys", "Tom", "Paw", "Mich", "Marc", "Jak", "Woj", "Kam", "Szym"),
        ("Agn", "Kasi", "Magd", "Joan", "Ew", "Ann", "Bar", "Zof", "Mart", "Ol"),
        ("", "ek", "usz", "os", "in", "el"),
        ("a", "ia", "ena", "ina"),
        ("Kowal", "Nowak", "Lewand", "Wojc", "Kamin", "Zielin", "Szyman", "Dabrow", "Kozl", "Jank"),
        ("ski", "czyk", "ewicz", "ak"),
        ("ska", "czyk", "ewicz", "ak"),
    ),
    "NGA": (
        ("Chi", "Olu", "Ade", "Emek", "Bol", "Tun", "Obi", "Kay", "Seg", "Uche"),
        ("Ama", "Nne", "Ife", "Ngoz", "Fol", "Bis", "Chi", "Ada", "Yet", "Fun"),
        ("", "wale", "dayo", "nedu", "ka", "yinka", "chi"),
        ("oma", "ka", "mi", "ola", "ke", "nna"),
        ("Okon", "Adeb", "Nwos", "Olad", "Eze", "Obi", "Okaf", "Ibr", "Bab", "Ogun"),
        ("kwe", "ayo", "u", "ele", "or", "ahim", "tunde"),
        (),
    ),
    "HUN": (
        ("Lász", "Istv", "Zolt", "Gáb", "Att", "Fer", "Tam", "Bal", "Lev", "Gerg"),
        ("Erzs", "Kat", "Zsu", "Esz", "Ann", "Jud", "Rék", "Ild", "Ági", "Tím"),
        ("", "ó", "án", "or", "ila", "enc"),
        ("a", "ebet", "alin", "ter", "ea"),
        ("Nagy", "Kov", "Tót", "Szab", "Horv", "Varg", "Kiss", "Mol", "Farka", "Bal"),
        ("", "ács", "h", "ó", "áth", "a", "s"),
        (),
    ),
    "MAR": (
        ("Moh", "Yous", "Ham", "Kar", "Bil", "Sof", "Ism", "Red", "Kha", "Nab"),
        ("Fat", "Nour", "Ilh", "Mer", "Sal", "Yas", "Hay", "Sou", "Kha", "Lam"),
        ("amed", "ef", "za", "im", "an", "ouan", "al"),
        ("ima", "ia", "am", "yem", "ma", "ira", "at"),
        ("El Amr", "Bouz", "Azz", "El Idr", "Ben Sal", "Tah", "Zer", "Akh", "El Kad", "Ouad"),
        ("ani", "ouni", "ouz", "issi", "ah", "iri", "dani"),
        (),
    ),
    "VNM": (
        ("Van", "Minh", "Duc", "Quang", "Tuan", "Hung", "Bao", "Long", "Thanh", "Hai"),
        ("Thi", "Lan", "Mai", "Hoa", "Linh", "Ngoc", "Huong", "Trang", "Thu", "Kim"),
        ("", " Anh", " Nam", " Son", " Hoang"),
        ("", " Anh", " Lan", " Mai", " Hoa"),
        ("Ngu", "Tr", "Ph", "Ho", "Vu", "Do", "Bu", "Dang", "Ly", "Duong"),
        ("yen", "an", "am", "ang", "i", ""),
        (),
    ),
}

NATIONALITIES: tuple[str, ...] = tuple(NAME_PARTS)
PARTICLES: tuple[str, ...] = ("van", "de", "van der", "van den", "van de", "ter", "ten", "den", "in 't")


def make_name(rng: random.Random, nationality: str, gender: str) -> tuple[str, str, str]:
    """A made-up (first name, particle, last name) for a person of the nationality and gender (M/V)."""
    male_f, female_f, end_m, end_f, stems, sur_m, sur_f = NAME_PARTS[nationality]
    if gender == "M":
        first = rng.choice(male_f) + rng.choice(end_m)
        last = rng.choice(stems) + rng.choice(sur_m)
    else:
        first = rng.choice(female_f) + rng.choice(end_f)
        last = rng.choice(stems) + rng.choice(sur_f or sur_m)
    particle = rng.choice(PARTICLES) if nationality == "NLD" and rng.random() < 0.35 else ""
    return first, particle, last


_SWAPS = (
    ("ij", "y"),
    ("y", "ij"),
    ("ou", "au"),
    ("au", "ou"),
    ("ch", "g"),
    ("ks", "x"),
    ("c", "k"),
    ("k", "c"),
    ("ph", "f"),
    ("ee", "e"),
    ("oo", "o"),
    ("ie", "i"),
    ("sz", "s"),
    ("é", "e"),
    ("á", "a"),
    ("ó", "o"),
    ("dt", "t"),
)


def spelling_variant(rng: random.Random, name: str) -> str:
    """The name as another clerk might have typed it: a Dutch spelling swap or a one-letter slip."""
    options = [(a, b) for a, b in _SWAPS if a in name]
    if options and rng.random() < 0.6:
        a, b = rng.choice(options)
        return name.replace(a, b, 1)
    if len(name) < 3:
        return name + name[-1]
    i = rng.randrange(1, len(name) - 1)
    op = rng.randrange(3)
    if op == 0:
        out = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    elif op == 1:
        out = name[:i] + name[i + 1 :]
    else:
        out = name[:i] + name[i] + name[i:]
    return out if out != name else name + "e"
