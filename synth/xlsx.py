"""A minimal streaming Excel (.xlsx) writer for one sheet of strings and dates.

openpyxl builds an element tree per cell, which is too slow for a million rows; this writer
streams the sheet XML straight into the zip (constant memory) with fixed timestamps, so the same
rows give the same bytes. The result is a normal workbook: openpyxl, pandas and Excel read it.
Strings are inline strings; ``datetime.date`` values become date cells shown as DD-MM-YYYY.
"""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape

__all__ = ["XlsxWriter"]

_EPOCH = date(1899, 12, 30).toordinal()
_FIXED = (2024, 1, 1, 0, 0, 0)
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/></Relationships>'
)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="dd\\-mm\\-yyyy"/></numFmts>'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _workbook(sheet: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{escape(sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


def _column_letters(n: int) -> list[str]:
    out = []
    for i in range(n):
        s, k = "", i + 1
        while k:
            k, r = divmod(k - 1, 26)
            s = chr(65 + r) + s
        out.append(s)
    return out


class XlsxWriter:
    """Write rows to a one-sheet workbook as they come; call :meth:`close` at the end."""

    def __init__(self, path: Path, sheet: str, n_columns: int) -> None:
        self._zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED)
        parts = (
            ("[Content_Types].xml", _CONTENT_TYPES),
            ("_rels/.rels", _ROOT_RELS),
            ("xl/workbook.xml", _workbook(sheet)),
            ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
            ("xl/styles.xml", _STYLES),
        )
        for name, text in parts:
            self._zip.writestr(self._info(name), text)
        self._sheet: IO[bytes] = self._zip.open(self._info("xl/worksheets/sheet1.xml"), "w", force_zip64=True)
        self._letters = _column_letters(n_columns)
        self._row = 0
        self._buf: list[str] = [
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        ]

    @staticmethod
    def _info(name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=_FIXED)
        info.compress_type = zipfile.ZIP_DEFLATED
        return info

    def append(self, values: list[Any]) -> None:
        """Write one row: str (empty string = empty cell), ``date`` or None."""
        self._row += 1
        r = str(self._row)
        parts = [f'<row r="{r}">']
        for letter, v in zip(self._letters, values, strict=False):
            if v is None or v == "":
                continue
            if isinstance(v, date):
                parts.append(f'<c r="{letter}{r}" s="1"><v>{v.toordinal() - _EPOCH}</v></c>')
            else:
                parts.append(f'<c r="{letter}{r}" t="inlineStr"><is><t>{escape(str(v))}</t></is></c>')
        parts.append("</row>")
        self._buf.append("".join(parts))
        if len(self._buf) >= 2000:
            self._flush()

    def _flush(self) -> None:
        self._sheet.write("".join(self._buf).encode("utf-8"))
        self._buf.clear()

    def close(self) -> None:
        self._buf.append("</sheetData></worksheet>")
        self._flush()
        self._sheet.close()
        self._zip.close()
