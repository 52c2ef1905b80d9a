"""Shared test settings: a headless matplotlib, and hypothesis runs that are repeatable."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

from hypothesis import settings  # noqa: E402

# derandomize: the same examples on every run (the book's rule: everything random is seeded)
settings.register_profile("book", derandomize=True, max_examples=40, deadline=None)
settings.load_profile("book")
