"""Test-wide settings."""

from __future__ import annotations

import os

from hypothesis import settings

# In CI, property tests explore the same examples every run: a red build always means a
# change broke something, never an unlucky draw. Locally they keep exploring new examples.
settings.register_profile("ci", derandomize=True, database=None, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")
