"""A DataTable of board rows keyed by message id, refreshed in place.

A new snapshot usually changes a few cells (a request gets claimed) or adds a row: rows whose
keys and order did not change are updated cell by cell, so the cursor and the scroll position
stay where the user left them; otherwise the rows are replaced and the cursor follows the row
it was on. DataTable renders only the visible rows, so thousands of rows stay fast.

DataTable measures every cell of every new row through Rich (about 40 µs a cell: a second for
5,000 requests); this table knows its cells are one line of text, so it sizes the columns
itself from their plain text and hands DataTable cells that need no measuring.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

Cell = str | Text
Row = tuple[str, tuple[Cell, ...]]

#: No column is wider than this (the rest of a long text shows in the preview or details).
MAX_COLUMN_WIDTH = 40


class _Fixed:
    """A cell of known width: DataTable finds nothing to measure and renders the text. The
    row's key rides along, for sorting rows into the board's order."""

    __slots__ = ("row", "text")

    def __init__(self, text: Text, row: str) -> None:
        self.text = text
        self.row = row

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        yield self.text


def _text(cell: Cell) -> Text:
    # A str cell would be read as markup by DataTable: a neighbour's "[b]" must stay text.
    text = Text(cell) if isinstance(cell, str) else cell.copy()
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text


class BoardTable(DataTable[Any]):
    DEFAULT_CSS = """
    BoardTable { height: 1fr; }
    """
    # Shown in the key bar, unlike DataTable's own; the screen opens the row on RowSelected.
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select_cursor", "Open")]

    def __init__(
        self, *columns: str | Text, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self._labels = [_text(label) for label in columns]
        self._rows: list[Row] = []
        self._column_keys: list[Any] = []
        self._widths = [cell_len(label.plain) for label in self._labels]

    def on_mount(self) -> None:
        self._column_keys = [
            self.add_column(label, width=width)
            for label, width in zip(self._labels, self._widths, strict=True)
        ]

    def show_rows(self, rows: Sequence[Row]) -> None:
        self._fit_columns(rows)
        old = dict(self._rows)
        keys = [key for key, _ in rows]
        wanted = set(keys)
        changes = len(wanted.symmetric_difference(old))
        if not old or changes > max(64, len(rows) // 4):
            self._replace(rows)
            return
        selected = self.selected_key
        for key in old.keys() - wanted:
            self.remove_row(key)
        for key, cells in rows:
            before = old.get(key)
            if before is None:
                self.add_row(*[_Fixed(_text(c), key) for c in cells], key=key)
            elif cells != before:
                for column, value, previous in zip(self._column_keys, cells, before, strict=True):
                    if value != previous:
                        self.update_cell(key, column, _Fixed(_text(value), key))
        # Rows removed and added (at the end): sort them into the board's order if needed.
        order = [key for key, _ in self._rows if key in wanted] + [k for k in keys if k not in old]
        self._rows = list(rows)
        if order != keys:
            position = {key: i for i, key in enumerate(keys)}
            self.sort(key=lambda cells: position[cells[0].row])
        if selected in wanted:
            self.move_cursor(row=position_of(keys, selected))

    def _replace(self, rows: Sequence[Row]) -> None:
        """Every row anew: the cursor follows the row it was on, else keeps its place."""
        selected = self.selected_key
        position = self.cursor_row
        self.clear()
        for key, cells in rows:
            self.add_row(*[_Fixed(_text(c), key) for c in cells], key=key)
        self._rows = list(rows)
        if rows:
            index = next((i for i, (key, _) in enumerate(rows) if key == selected), None)
            self.move_cursor(row=min(position, len(rows) - 1) if index is None else index)

    def _fit_columns(self, rows: Sequence[Row]) -> None:
        widths = [cell_len(label.plain) for label in self._labels]
        for _, cells in rows:
            for i, cell in enumerate(cells):
                width = cell_len(cell if isinstance(cell, str) else cell.plain)
                if width > widths[i]:
                    widths[i] = min(width, MAX_COLUMN_WIDTH)
        if widths != self._widths:
            self._widths = widths
            for key, width in zip(self._column_keys, widths, strict=True):
                self.columns[key].width = width
            # DataTable has no public way to say its columns changed width (textual 8.2).
            self._require_update_dimensions = True
            self.refresh()

    def row_text(self, key: str) -> str:
        """A row's cells as plain text, two spaces apart."""
        cells = dict(self._rows)[key]
        return "  ".join(c if isinstance(c, str) else c.plain for c in cells)

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor, if any."""
        if not self._rows or not 0 <= self.cursor_row < len(self._rows):
            return None
        return self._rows[self.cursor_row][0]


def position_of(keys: Sequence[str], key: str | None) -> int:
    return keys.index(key) if key is not None else 0
