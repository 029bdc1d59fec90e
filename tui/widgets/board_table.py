"""A DataTable of board rows keyed by message id, refreshed in place.

A new snapshot usually changes a few cells (a request gets claimed) or adds a row: rows whose
keys and order did not change are updated cell by cell, so the cursor and the scroll position
stay where the user left them; otherwise the rows are replaced and the cursor follows the row
it was on. DataTable renders only the visible rows, so thousands of rows stay fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

Cell = str | Text
Row = tuple[str, tuple[Cell, ...]]


class BoardTable(DataTable[Cell]):
    DEFAULT_CSS = """
    BoardTable { height: 1fr; }
    """
    # Shown in the key bar, unlike DataTable's own; the screen opens the row on RowSelected.
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select_cursor", "Open")]

    def __init__(
        self, *columns: str | Text, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self._columns = columns
        self._rows: list[Row] = []
        self._column_keys: list[Any] = []

    def on_mount(self) -> None:
        self.set_columns(*self._columns)

    def set_columns(self, *labels: str | Text, widths: Sequence[int | None] = ()) -> None:
        """(Re)define the columns; ``widths``: fixed widths, None for automatic."""
        self.clear(columns=True)
        self._rows = []
        self._column_keys = [
            self.add_column(
                Text(text) if isinstance(text, str) else text,
                width=widths[i] if i < len(widths) else None,
            )
            for i, text in enumerate(labels)
        ]

    def show_rows(self, rows: Sequence[Row]) -> None:
        # DataTable reads a str cell as markup: a neighbour's "[b]" must stay text.
        rows = [
            (key, tuple(Text(c) if isinstance(c, str) else c for c in cells)) for key, cells in rows
        ]
        old = self._rows
        if [key for key, _ in rows] == [key for key, _ in old]:
            for (key, cells), (_, before) in zip(rows, old, strict=True):
                if cells == before:
                    continue
                for column, value, previous in zip(self._column_keys, cells, before, strict=True):
                    if value != previous:
                        self.update_cell(key, column, value)
        else:
            selected = self.selected_key
            position = self.cursor_row
            self.clear()
            for key, cells in rows:
                self.add_row(*cells, key=key)
            if rows:
                index = next((i for i, (key, _) in enumerate(rows) if key == selected), None)
                self.move_cursor(row=min(position, len(rows) - 1) if index is None else index)
        self._rows = list(rows)

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor, if any."""
        if not self._rows or not 0 <= self.cursor_row < len(self._rows):
            return None
        return self._rows[self.cursor_row][0]
