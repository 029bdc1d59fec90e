"""The Meshtastic radio adapter (the only code that imports meshtastic)."""
