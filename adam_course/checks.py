"""Argument checks with one wording for the whole package.

Every bad argument raises ``ValueError`` in torch.optim's style, naming the argument and its
value and then saying what it must be::

    Invalid learning rate (lr): -0.1 (must be a finite number >= 0)
    Invalid steps: 2.5 (must be an integer in [1, 300])
    Invalid X: shape (5, 3) (must be (N, 64))

The first part, ``Invalid <what>: <value>``, is what torch prints; the part in brackets is the
rule, always introduced by "must be". Each function returns the checked value, converted
(``number`` returns a float, ``integer`` an int), so a caller writes ``lr = checks.number(lr,
"lr", lo=0)``.
"""

from __future__ import annotations

import numbers
from typing import NoReturn

import numpy as np

__all__ = ["fail", "described", "interval", "number", "integer", "choice", "flag", "per_run",
           "finite"]


def fail(what, value, rule) -> NoReturn:
    """Raise ``ValueError("Invalid <what>: <value> (must be <rule>)")``.

    ``value`` is shown with ``repr``, unless it was wrapped by :func:`described` (as in
    ``described(f"shape {x.shape}")``), which is shown as it is.
    """
    raise ValueError(f"Invalid {what}: {_shown(value)} (must be {rule})")


class _Text(str):
    """A value description shown as is (not repr'd), e.g. ``shape (5, 3)``."""


def described(text) -> _Text:
    """Mark ``text`` as a description of the value, shown without quotes by :func:`fail`."""
    return _Text(text)


def _shown(value) -> str:
    return str(value) if isinstance(value, _Text) else repr(value)


def interval(lo=None, hi=None, *, lo_open=False, hi_open=False) -> str:
    """The rule for a number between ``lo`` and ``hi``: ``">= 0"``, ``"in [0, 1)"``, ``"> 0"``."""
    if lo is None and hi is None:
        return "a finite number"
    if hi is None:
        return f"a finite number {'>' if lo_open else '>='} {lo:g}"
    if lo is None:
        return f"a finite number {'<' if hi_open else '<='} {hi:g}"
    return f"a finite number in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"


def _outside(x, lo, hi, lo_open, hi_open):
    """Boolean mask (or bool) of the entries of ``x`` that break the interval or are not finite."""
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(x)
        if lo is not None:
            bad |= (x <= lo) if lo_open else (x < lo)
        if hi is not None:
            bad |= (x >= hi) if hi_open else (x > hi)
    return bad


def number(value, what, *, lo=None, hi=None, lo_open=False, hi_open=False) -> float:
    """A real, finite number in the interval; returns it as a float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        fail(what, value, interval(lo, hi, lo_open=lo_open, hi_open=hi_open))
    value = float(value)
    if _outside(value, lo, hi, lo_open, hi_open):
        fail(what, value, interval(lo, hi, lo_open=lo_open, hi_open=hi_open))
    return value


def integer(value, what, *, lo=None, hi=None) -> int:
    """An integer (not a bool, not a float) in ``[lo, hi]``; returns it as an int."""
    ok = not isinstance(value, bool) and isinstance(value, numbers.Integral)
    ok = ok and (lo is None or value >= lo) and (hi is None or value <= hi)
    if not ok:
        if lo is not None and hi is not None:
            rule = f"an integer in [{lo}, {hi}]"
        elif lo is not None:
            rule = f"an integer >= {lo}"
        else:
            rule = "an integer" if hi is None else f"an integer <= {hi}"
        fail(what, value, rule)
    return int(value)


def choice(value, what, options):
    """One of ``options`` (compared with ``==``); returns it."""
    options = tuple(options)
    if not any(value == option and type(value) is type(option) for option in options):
        fail(what, value, "one of " + ", ".join(map(repr, options)))
    return value


def flag(value, what) -> bool:
    """``True`` or ``False`` (not 0, 1 or None); returns it."""
    if not isinstance(value, bool | np.bool_):
        fail(what, value, "True or False")
    return bool(value)


def per_run(value, what, *, lo=None, hi=None, lo_open=False, hi_open=False):
    """A hyperparameter: a number, or an array with one value per run.

    The array follows numpy broadcasting against params whose leading axis holds the runs:
    shape ``(R,)``, ``(R, 1)``, ``(R, 1, 1)``, ... are all R values, one per run. Returns a
    float for a number and a float array (its shape kept) otherwise. The message names the
    first bad value and, for an array, the run it belongs to.
    """
    if isinstance(value, bool) or value is None:
        fail(what, value, interval(lo, hi, lo_open=lo_open, hi_open=hi_open))
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        fail(what, value, interval(lo, hi, lo_open=lo_open, hi_open=hi_open))
    if arr.ndim > 1 and any(n != 1 for n in arr.shape[1:]):
        fail(what, described(f"shape {arr.shape}"),
             "a number, or an array with one value per run, shape (R,) or (R, 1, ...)")
    bad = _outside(arr, lo, hi, lo_open, hi_open)
    if np.any(bad):
        rule = interval(lo, hi, lo_open=lo_open, hi_open=hi_open)
        if arr.ndim == 0:
            fail(what, float(arr), rule)
        run = int(np.argmax(bad.ravel()))
        raise ValueError(f"Invalid {what}: {float(arr.ravel()[run])!r} at run {run} "
                         f"(must be {rule})")
    return float(arr) if arr.ndim == 0 else arr


def finite(array, what, hint=""):
    """An array with no nan or inf; the message gives the first bad entry and its index."""
    array = np.asarray(array)
    ok = np.isfinite(array)
    if not ok.all():
        index = tuple(int(i) for i in np.unravel_index(int(np.argmin(ok.ravel())), array.shape))
        raise ValueError(f"Invalid {what}: non-finite value {float(array[index])!r} at index "
                         f"{index} (must be finite{'; ' + hint if hint else ''})")
    return array
