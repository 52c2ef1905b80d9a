"""Shared test settings: a headless matplotlib, and hypothesis runs that are repeatable."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# derandomize: the same examples on every run (the book's rule: everything random is seeded)
settings.register_profile("book", derandomize=True, max_examples=40, deadline=None)
settings.load_profile("book")


@pytest.fixture(scope="session")
def torch_optim_ready():
    """torch.optim with its one-time set-up done: the first optimizer a process builds imports
    torch's compiler machinery, which took 5.7 s on this machine under load. A test that builds
    a torch optimizer inside a learner's function must not have that counted against the
    checker's time limit (exercises.engine.TIME_LIMIT), so it asks for this fixture first."""
    import torch

    torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    return torch
