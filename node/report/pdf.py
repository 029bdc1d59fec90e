"""Printable PDF pages (fpdf2): the situation report and the reflex sheet.

A4, black on white, tables that wrap their text, every page footed with the zone, the page
number and the signer's fingerprint (a reader compares it with the one read aloud by the
node's household). Text is drawn with DejaVu Sans when the system has it (every accent,
every script it covers); otherwise with the PDF core font Helvetica, in which case what
Windows-1252 cannot write is spelled in ASCII (œ as oe, ’ as ').
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import TableCellFillMode

from protocol.i18n import tr

from .formats import local_time, meta_lines, roster_note, section_titles, table_columns
from .situation import Situation

__all__ = ["PdfPage", "situation_pdf"]

_FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts"),
    Path("/Library/Fonts"),
)
_ASCII = {
    "’": "'", "‘": "'", "“": '"', "”": '"', "…": "...", "œ": "oe", "Œ": "OE", "–": "-",
    "—": "-", "⚠": "(!)", "\u202f": " ", "\u00a0": " ", "€": "EUR",
}  # fmt: skip
#: Relative widths of the columns of each section's table.
_WIDTHS = {
    "alert": (10, 9, 12, 24, 16, 29),
    "request": (10, 9, 11, 9, 9, 17, 10, 25),
    "silent": (20, 16, 20, 44),
    "vulnerable": (20, 16, 20, 44),
    "incident": (10, 12, 9, 20, 10, 39),
    "resource": (10, 13, 16, 8, 12, 14, 27),
}


def _find_font(name: str) -> Path | None:
    for folder in _FONT_DIRS:
        path = folder / name
        if path.is_file():
            return path
    return None


class PdfPage(FPDF):
    """An A4 document with the report's fonts and footer."""

    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.footer_text = footer_text
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(12, 12, 12)
        regular, bold = _find_font("DejaVuSans.ttf"), _find_font("DejaVuSans-Bold.ttf")
        if regular is not None and bold is not None:
            self.add_font("body", "", str(regular))
            self.add_font("body", "B", str(bold))
            self.family = "body"
            self.unicode = True
        else:
            self.family = "helvetica"
            self.unicode = False
        self.set_title(footer_text)
        self.set_creator("entraide")

    def text_of(self, value: str) -> str:
        """``value`` as the font can draw it."""
        if self.unicode:
            return value
        spelled = "".join(_ASCII.get(ch, ch) for ch in value)
        return spelled.encode("cp1252", "replace").decode("cp1252")

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font(self.family, "", 7.5)
        self.cell(0, 5, self.text_of(f"{self.footer_text} - {self.page_no()}/{{nb}}"), align="C")

    def heading(self, text: str, size: float = 12.5) -> None:
        self.ln(2)
        self.set_font(self.family, "B", size)
        self.multi_cell(0, size * 0.5, self.text_of(text), new_x="LMARGIN", new_y="NEXT")
        y = self.get_y()
        self.line(self.l_margin, y, self.w - self.r_margin, y)
        self.ln(1.5)

    def paragraph(self, text: str, size: float = 9.5, style: str = "") -> None:
        self.set_font(self.family, style, size)
        self.multi_cell(
            0, size * 0.48, self.text_of(text), align="L", new_x="LMARGIN", new_y="NEXT"
        )

    def grid(
        self, headings: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int]
    ) -> None:
        self.set_font(self.family, "", 8.5)
        with self.table(
            col_widths=tuple(widths),
            text_align="LEFT",
            line_height=4.2,
            cell_fill_color=235,
            cell_fill_mode=TableCellFillMode.ROWS,
            first_row_as_headings=True,
        ) as table:
            head = table.row()
            for text in headings:
                head.cell(self.text_of(text))
            for values in rows:
                row = table.row()
                for text in values:
                    row.cell(self.text_of(text))
        self.ln(1)


def situation_pdf(situation: Situation) -> bytes:
    lang = situation.lang
    title = f"{tr('Situation report', lang)} - {situation.zone_name}"
    pdf = PdfPage(f"{title} - {situation.signer_fingerprint}")
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font(pdf.family, "B", 16)
    pdf.multi_cell(0, 8, pdf.text_of(title), new_x="LMARGIN", new_y="NEXT")
    for key, value in meta_lines(situation):
        pdf.paragraph(tr("{prefix}: {detail}", lang, prefix=key, detail=value))
    fingerprint = tr(
        "{prefix}: {detail}",
        lang,
        prefix=tr("Signer fingerprint", lang),
        detail=situation.signer_fingerprint,
    )
    pdf.paragraph(fingerprint, size=11, style="B")
    titles = section_titles(lang)
    sections = {
        "alert": situation.alerts,
        "request": situation.requests,
        "silent": situation.silent,
        "vulnerable": situation.vulnerable,
        "incident": situation.incidents,
        "resource": situation.resources,
    }
    for section, items in sections.items():
        pdf.heading(f"{titles[section]} ({len(items)})")
        if section == "vulnerable" and not situation.roster_readable:
            pdf.paragraph(roster_note(lang), style="")
            continue
        if not items:
            pdf.paragraph(tr("None.", lang))
            continue
        columns = table_columns(section, lang)
        pdf.grid(
            [name for name, _ in columns],
            [[cell(item) for _, cell in columns] for item in items],
            _WIDTHS[section],
        )
    if situation.checkins:
        pdf.heading(tr("Latest news of each household", lang))
        pdf.grid(
            [tr("status", lang), tr("households", lang)],
            [[status, str(count)] for status, count in sorted(situation.checkins.items())],
            (70, 30),
        )
    generated = tr("{prefix}: {detail}", lang, prefix=tr("Generated", lang), detail="")
    pdf.paragraph(generated + local_time(situation.now), size=8)
    return bytes(pdf.output())
