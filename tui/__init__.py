"""The Textual terminal app (a client of the node)."""
