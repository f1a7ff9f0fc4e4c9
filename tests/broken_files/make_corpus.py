"""Write the broken-file corpus (run from anywhere: ``python tests/broken_files/make_corpus.py``).

Every file is small, synthetic (names made up from parts, no real people) and exercises one way
an export can be wrong. ``expected.yaml`` says what the loader must do with each; the test
``tests/test_loaders_read.py::test_broken_file`` checks it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
HEADER = [
    "Regelnummer",
    "Zaaknummer",
    "Rol",
    "Voornaam",
    "Tussenvoegsel",
    "Achternaam",
    "Geboortedatum",
    "Nationaliteit",
    "Telefoon",
    "Kenteken",
    "IBAN",
    "Plaats",
    "Postcode",
    "Uitbuitingsvorm",
    "Datum feit",
]
GOOD = [
    [
        "1",
        "Z-001",
        "Verdachte",
        "Daan",
        "van der",
        "Hoeven",
        "12-03-1985",
        "Nederlandse",
        "06-12345678",
        "ab-123-c",
        "NL91 ABNA 0417 1643 00",
        "Den Haag",
        "2511 AB",
        "seksueel",
        "01-06-2023",
    ],
    [
        "2",
        "Z-001",
        "Slachtoffer",
        "Ioana",
        "",
        "Marinescu",
        "02-11-2001",
        "Roemeense",
        "+40 721 234 567",
        "",
        "",
        "'s-Hertogenbosch",
        "5211",
        "seksueel",
        "15-06-2023",
    ],
    [
        "3",
        "Z-002",
        "Verdachte",
        "Bram",
        "de",
        "Wit",
        "",
        "NL",
        "0201234567",
        "12-ABC-3",
        "",
        "Weesp",
        "",
        "arbeid",
        "03-02-2024",
    ],
]


def csv_text(rows: list[list[str]], delimiter: str = ";") -> str:
    return "".join(delimiter.join(row) + "\n" for row in rows)


def write(name: str, text: str, encoding: str = "utf-8") -> None:
    (HERE / name).write_bytes(text.encode(encoding))


def main() -> None:
    base = [HEADER, *GOOD]
    write("good.csv", csv_text(base))
    write("bom.csv", "\ufeff" + csv_text(base), "utf-8")
    cp = [
        HEADER,
        [
            "10",
            "Z-010",
            "Slachtoffer",
            "Zoë",
            "",
            "Hélène-Bähr",
            "01-01-1990",
            "Franse",
            "",
            "",
            "",
            "Súdwest-Fryslân",
            "8601",
            "arbeid",
            "05-05-2023",
        ],
    ]
    write("cp1252.csv", csv_text(cp, ","), "cp1252")
    write("tab.csv", csv_text(base, "\t"))
    write("pipe.csv", csv_text(base, "|"))
    write(
        "missing_column.csv",
        csv_text(
            [[h for h in HEADER if h != "Rol"], *[[v for i, v in enumerate(r) if i != 2] for r in GOOD]]
        ),
    )
    write("one_column.csv", "".join(" ".join(r) + "\n" for r in base))
    write("wrong_delimiter.csv", csv_text(base, ","))  # read with a source that fixes ';'
    write("empty.csv", "")
    write("header_only.csv", csv_text([HEADER]))
    (HERE / "garbage.csv").write_bytes(bytes(range(256)) * 8)
    short = GOOD[0][:12]
    long = [*GOOD[1], "extra", "more"]
    write("column_count.csv", csv_text([HEADER, short, long, GOOD[2]]))
    bad_dates = [
        HEADER,
        [*GOOD[0][:6], "31-02-2023", *GOOD[0][7:]],
        [*GOOD[1][:14], "2099-01-01"],
        [*GOOD[2][:14], "gisteren"],
    ]
    write("bad_dates.csv", csv_text(bad_dates))
    places = [
        HEADER,
        [*GOOD[0][:11], "Atlantis-aan-Zee", *GOOD[0][12:]],
        [*GOOD[1][:11], "Hengelo", *GOOD[1][12:]],
        [*GOOD[2][:11], "Amsterdm", *GOOD[2][12:]],
    ]
    write("places.csv", csv_text(places))
    ids = [HEADER, GOOD[0], [*GOOD[0]], ["", *GOOD[1][1:]], GOOD[2]]
    write("row_ids.csv", csv_text(ids))
    optional = [
        HEADER,
        [*GOOD[0][:8], "12", "Q", "NL00 BANK 0000 0000 00", *GOOD[0][11:]],
        [*GOOD[1][:7], "Marsmannetje", *GOOD[1][8:12], "99999", *GOOD[1][13:]],
    ]
    write("bad_optional.csv", csv_text(optional))
    required = [
        HEADER,
        [*GOOD[0][:2], "", *GOOD[0][3:]],
        [*GOOD[1][:2], "Toeschouwer", *GOOD[1][3:]],
        [*GOOD[2][:14], ""],
    ]
    write("bad_required.csv", csv_text(required))
    formula = [HEADER, ["=1+1", *GOOD[0][1:6], '=HYPERLINK("x")', *GOOD[0][7:]]]
    write("formula.csv", csv_text(formula))
    quoted = [
        HEADER,
        [*GOOD[0][:3], '"Daan ""D"" Jr"', *GOOD[0][4:11], '"Den Haag"', *GOOD[0][12:]],
        [*GOOD[1][:13], '"seksueel\nen arbeid"', GOOD[1][14]],
        GOOD[2],
    ]
    write("quoted.csv", csv_text(quoted))
    write("blank_lines.csv", csv_text([HEADER, GOOD[0]]) + "\n\n" + csv_text([GOOD[1]]) + "\n")
    unclosed = [HEADER, GOOD[0], [*GOOD[1][:3], '"Ioana', *GOOD[1][4:]], GOOD[2], ["4", *GOOD[2][1:]]]
    write("unclosed_quote.csv", csv_text(unclosed))
    write("not_excel.xlsx", csv_text(base))
    write("excel_as_csv.csv", "")
    excel_workbook("excel_extra_sheet.xlsx")
    (HERE / "excel_as_csv.csv").write_bytes((HERE / "excel_extra_sheet.xlsx").read_bytes())


def excel_workbook(name: str) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Inspecties"
    sheet.append(HEADER)
    first = list(GOOD[0])
    sheet.append(
        [
            1,
            *first[1:6],
            dt.datetime(1985, 3, 12),
            *first[7:8],
            612345678,
            *first[9:14],
            dt.datetime(2023, 6, 1),
        ]
    )
    sheet.append([2, *GOOD[1][1:14], dt.date(2023, 6, 15)])
    sheet.append([None] * len(HEADER))  # an empty row in the middle is not a row
    sheet.append([3, *GOOD[2][1:14], "31-02-2023", "overflow"])
    notes = book.create_sheet("Toelichting")
    notes.append(["Dit blad is uitleg en geen data"])
    notes.append(["Regelnummer", "Rol"])
    book.save(HERE / name)


if __name__ == "__main__":
    main()
