"""The book's optimizers, one record each: how to build it and how it looks in every figure.

One :class:`Entry` per optimizer name holds its factory (torch's arguments), the
label the text uses, its colour, line style and marker (the same in every figure of the book),
and which of the explorers' knobs (``beta1``, ``beta2``, ``eps``; ``lr`` always) it listens to::

    catalog.CATALOG["rmsprop"].build(lr=0.01, beta2=0.9)   # optim.rmsprop(lr=0.01, alpha=0.9)
    catalog.CATALOG["adam"].color                          # '#D55E00'

Colours are the colour-blind-safe Okabe-Ito palette (plus Paul Tol's wine for NAdam and indigo
for Lion); line styles and markers differ too, so figures still read in greyscale. ``gd`` and
``sgd`` are the same method and share a look.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from types import MappingProxyType
from typing import Any

from adam_course import checks, optim

__all__ = ["Entry", "CATALOG", "KNOBS", "entry", "build"]

KNOBS = ("lr", "beta1", "beta2", "eps")
"""The explorers' knobs. ``beta1`` is momentum's coefficient for the heavy ball, ``beta2`` is
RMSProp's ``alpha``."""


@dataclass(frozen=True)
class Entry:
    """One optimizer of the book.

    ``factory(**kwargs)`` builds it with torch's argument names (presets such as
    ``momentum=0.9`` already applied); ``knobs`` maps each explorer knob it listens to onto
    the factory's argument (``{"beta1": "momentum"}``; ``"betas[0]"`` is the first of a pair).
    """

    name: str
    label: str
    factory: Callable[..., optim.Optimizer] = field(repr=False)
    color: str
    linestyle: Any
    marker: str
    knobs: Mapping[str, str] = field(default_factory=dict)
    outline: str | None = None  # a dark edge for a light colour

    def build(self, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        """The optimizer with the explorer's knobs; a knob it does not have is ignored."""
        values = {"beta1": beta1, "beta2": beta2, "eps": eps}
        kwargs, betas = {}, {}
        for knob, argument in self.knobs.items():
            if argument.startswith("betas["):
                betas[int(argument[6])] = values[knob]
            else:
                kwargs[argument] = values[knob]
        if betas:
            kwargs["betas"] = (betas.get(0, 0.9), betas.get(1, 0.999))
        return self.factory(lr=lr, **kwargs)


_ADAM_KNOBS = {"beta1": "betas[0]", "beta2": "betas[1]", "eps": "eps"}

_ENTRIES = [
    Entry("gd", "GD", optim.sgd, "#0072B2", "-", "o"),                     # blue
    Entry("sgd", "SGD", optim.sgd, "#0072B2", "-", "o"),
    Entry("momentum", "Momentum", partial(optim.sgd, momentum=0.9), "#E69F00", "--", "s",
          {"beta1": "momentum"}),                                          # orange
    Entry("nesterov", "Nesterov", partial(optim.sgd, momentum=0.9, nesterov=True), "#CC79A7",
          "-.", "D", {"beta1": "momentum"}),                               # reddish purple
    Entry("adagrad", "AdaGrad", optim.adagrad, "#56B4E9", ":", "v", {"eps": "eps"}),  # sky blue
    Entry("rmsprop", "RMSProp", optim.rmsprop, "#009E73", (0, (5, 1.5)), "^",
          {"beta2": "alpha", "eps": "eps"}),                               # bluish green
    Entry("adam", "Adam", optim.adam, "#D55E00", "-", "P", _ADAM_KNOBS),   # vermillion
    Entry("adamw", "AdamW", optim.adamw, "#000000", "--", "h", _ADAM_KNOBS),  # black
    Entry("amsgrad", "AMSGrad", partial(optim.adam, amsgrad=True), "#999999", "-.", "<",
          _ADAM_KNOBS),                                                    # grey
    Entry("adamax", "AdaMax", optim.adamax, "#F0E442", ":", ">", _ADAM_KNOBS,
          outline="#6B6200"),                                              # yellow, dark edge
    Entry("nadam", "NAdam", optim.nadam, "#882255", (0, (3, 1, 1, 1, 1, 1)), "d",
          _ADAM_KNOBS),                                                    # wine (Paul Tol)
    Entry("lion", "Lion", optim.lion, "#332288", (0, (8, 2, 1, 2)), "p",
          {"beta1": "betas[0]", "beta2": "betas[1]"}),                     # indigo (Paul Tol)
]

CATALOG: Mapping[str, Entry] = MappingProxyType({e.name: e for e in _ENTRIES})
"""Optimizer name -> :class:`Entry`, in the order the book meets them."""


def entry(name) -> Entry:
    """The record of optimizer ``name`` (raises ValueError naming the choices)."""
    if name not in CATALOG:
        checks.fail("optimizer", name, "one of " + ", ".join(CATALOG))
    return CATALOG[name]


def build(name, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """Optimizer ``name`` built with the explorer's knobs (see :meth:`Entry.build`)."""
    return entry(name).build(lr, beta1=beta1, beta2=beta2, eps=eps)
