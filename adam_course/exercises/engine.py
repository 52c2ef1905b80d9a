"""The engine every exercise checker runs on: call the learner's function, compare, answer.

A checker (one module per chapter, ``ch1_gradient_descent`` to ``ch8_beyond_adam``) hands the
engine the learner's function, a reference, seeded :class:`Case`\\ s and the mistakes it knows.
The engine

- calls the function on copies of each case's arguments, positionally, in the order the
  exercise states, with a time limit (:func:`call`, :data:`TIME_LIMIT`), and feeds its outputs
  back in for the next step (:func:`check_steps`);
- compares under one precision policy (:func:`close`, :data:`RTOL`);
- words the answer, one sentence: the failing case with its shapes, sizes and hyperparameters
  (so that the learner can reproduce it), then the cause: a known mistake only when it gives
  the learner's answer on *every* call of the check, float32 when the answer is float32, the
  order of the arguments when the function names them otherwise;
- never raises into the learner's kernel (:func:`guarded`): only ``KeyboardInterrupt`` and
  ``SystemExit`` get through.

What a learner's function may return, in every checker (:func:`as_outputs`): a number, a numpy
array, or a list of numbers, anything ``np.asarray`` turns into real numbers of the expected
shape; a number may come as an array of size 1; several outputs as a tuple or a list, and k
numbers also as one array of k.
"""

from __future__ import annotations

import inspect
import numbers
import signal
import threading
import time
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "RTOL", "TIME_LIMIT", "STEPS", "LOW_PRECISION", "Feedback", "Case", "Stop", "TimedOut",
    "time_limit", "check_steps", "stepping_cases", "check_signature", "call", "guarded", "close",
    "as_outputs", "as_array", "low_precision", "returned_none", "too_long", "describe", "kind",
    "pair", "num", "first", "copies", "where_text", "source_mentions",
]

STEPS = 5
"""Consecutive calls per case of a step checker, each fed the previous call's outputs."""

TIME_LIMIT = 5.0
"""Seconds one call of the learner's function may take before the checker stops it (in the
main thread, where a kernel runs cells; elsewhere, and where SIGALRM does not exist, no limit).
Set ``adam_course.exercises.engine.TIME_LIMIT`` to change it."""

RTOL = 1e-9
"""The one precision policy of every checker: an answer agrees with the reference when each
entry is within ``RTOL`` times the largest magnitude of the reference's answer (:func:`close`).
Any exact formula computed in float64 (about 16 significant digits) passes with room to spare;
float32 (about 7) does not, and is told so (:func:`low_precision`)."""

LOW_PRECISION = {np.dtype(np.float32): "float32", np.dtype(np.float16): "float16"}
"""The dtypes an answer is told it comes in (:func:`low_precision`), by their numpy dtype."""


@dataclass(frozen=True, repr=False)
class Feedback:
    """A checker's verdict: ``ok`` and one friendly sentence.

    Shows as its message with a ✅ or ❌ in front; ``bool(feedback)`` is ``ok``, so a notebook
    can ``assert check_gd_step(my_step)``.
    """

    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return ("✅ " if self.ok else "❌ ") + self.message

    __repr__ = __str__

    def _repr_markdown_(self) -> str:
        return str(self)


@dataclass(frozen=True)
class Case:
    """One seeded scenario of a check.

    ``args``: the first call's arguments, in the order the function takes them;
    ``updates[k]``: the arguments that change on call k (a new ``grad``, the next ``t``);
    ``about``: what a learner needs to reproduce the case ("x of shape (3,), lr = 0.5"; made
    from ``args`` when empty); ``notes``: advice for this case by kind of failure
    (``"too_long"``, ``"not_finite"``, ``"raised"``), in place of the general one. Between
    calls, each output replaces the argument of the same name (``x``, ``m``, ...).
    """

    args: dict[str, Any]
    updates: Sequence[dict[str, Any]] = field(default_factory=tuple)
    about: str = ""
    notes: Mapping[str, str] = field(default_factory=dict)

    def description(self) -> str:
        if self.about:
            return self.about
        parts = []
        for name, value in self.args.items():
            if isinstance(value, np.ndarray):
                parts.append(f"{name} of shape {value.shape}")
            elif isinstance(value, numbers.Real):
                parts.append(f"{name} = {value:g}")
        return ", ".join(parts)


class Stop(Exception):
    """Raised inside a check to stop it with a failing Feedback carrying ``message``."""

    def __init__(self, message: str):
        super().__init__(message)
        self.feedback = Feedback(False, message)


class TimedOut(BaseException):
    """Raised by the alarm inside a learner's function that runs too long (a BaseException, so
    that the learner's own ``except Exception`` cannot swallow it)."""


@contextmanager
def time_limit(seconds):
    """Raise TimedOut in the block after ``seconds`` (SIGALRM, main thread only).

    The previous SIGALRM handler and timer come back afterwards; the alarm handler itself puts
    the previous handler back before it raises, so that even an alarm that fires as the block
    ends leaves the kernel's handler in place.
    """
    if threading.current_thread() is not threading.main_thread() \
            or not hasattr(signal, "setitimer"):
        yield
        return
    previous = signal.getsignal(signal.SIGALRM)
    previous = signal.SIG_DFL if previous is None else previous

    def alarm(signum, frame):
        signal.signal(signal.SIGALRM, previous)
        raise TimedOut

    signal.signal(signal.SIGALRM, alarm)
    start = time.monotonic()
    other_delay, other_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if other_delay:  # someone else's timer was running: give back what is left of it
            left = max(other_delay - (time.monotonic() - start), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, left, other_interval)


# --------------------------------------------------------------------------------------------
# The precision policy
# --------------------------------------------------------------------------------------------

def close(got, expected, unit=0.0, rtol=RTOL) -> np.ndarray:
    """Entry by entry, whether ``got`` agrees with ``expected``: within ``rtol`` times the
    largest finite ``|expected|`` (or ``unit``, if larger: 1 for a rate whose answer may be 0),
    or exactly equal (an inf where the reference has the same inf)."""
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    finite = np.abs(expected[np.isfinite(expected)])
    scale = max(float(finite.max()) if finite.size else 0.0, unit)
    with np.errstate(invalid="ignore"):
        return (np.abs(got - expected) <= rtol * scale) | (got == expected)


def low_precision(dtype) -> str:
    """The one explanation of a float32 (or float16) answer, as a clause."""
    return (f" — your function returns {dtype} numbers, which keep only about "
            f"{np.finfo(dtype).precision} significant digits, and the checker asks for "
            f"{round(-np.log10(RTOL))}: compute in float64, numpy's default (leave out the "
            f"np.{dtype}), and check again")


def _round_off(expected, got, unit) -> str:
    """A clause for a float64 answer that is wrong by a tiny amount, or ''."""
    finite = np.abs(expected[np.isfinite(expected)])
    scale = max(float(finite.max()) if finite.size else 0.0, unit)
    if scale == 0:
        return ""
    relative = float(np.max(np.abs(got - expected))) / scale
    if relative >= 1e-4:
        return ""
    return (f"a real difference, not round-off: {relative:.1g} of the largest value, where "
            f"float64 round-off stays near 1e-15 and the checker allows {RTOL:g}; look for a "
            f"small term, such as ε, left out or put in another place")


# --------------------------------------------------------------------------------------------
# Calling the learner's function, and reading what it returned
# --------------------------------------------------------------------------------------------

def check_signature(fn, names) -> tuple[str, ...] | None:
    """Stop unless ``fn`` is a function that takes ``len(names)`` positional arguments, or if
    it gives one of ``names`` to another position (the checker calls positionally, so the swap
    would otherwise pass unnoticed). Returns fn's own parameter names if they differ from
    ``names`` (renamed, say ``g`` for ``grad``), else None."""
    if not callable(fn):
        raise Stop(f"That is {kind(fn)}, not a function — pass the function itself (its name, "
                   f"without parentheses).")
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # some builtins have no signature; just call them
        return None
    count = f"{len(names)} argument" + ("s" if len(names) != 1 else "")
    try:
        signature.bind(*names)
    except TypeError:
        name = getattr(fn, "__name__", "your function")
        raise Stop(f"Your function should take {count} ({', '.join(names)}), in this order, "
                   f"but it is defined as {name}{signature}.") from None
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    params = [p.name for p in signature.parameters.values() if p.kind in positional]
    if len(params) < len(names):  # *args takes the rest: nothing to compare
        return None
    params = params[:len(names)]
    for i, param in enumerate(params):
        if param != names[i] and param in names:
            raise Stop(f"Your function takes ({', '.join(params)}), but the checker passes the "
                       f"arguments in the order ({', '.join(names)}): your `{param}` would "
                       f"receive {names[i]} — put the parameters of your `def` in that order.")
    return None if params == list(names) else tuple(params)


def call(fn, args, where, notes=None):
    """``fn(*args.values())`` on copies, with the time limit; Stop on a raise, on a time-out
    or if fn changed an argument in place. ``notes`` may replace the advice given for a
    time-out (``"too_long"``) or a raise (``"raised"``)."""
    notes = notes or {}
    given = copies(args)
    try:
        with time_limit(TIME_LIMIT):
            result = fn(*given.values())
    except TimedOut:
        raise Stop(too_long(where, notes.get("too_long"))) from None
    except NotImplementedError:
        raise Stop("Not implemented yet: your function raised NotImplementedError — replace "
                   "the `raise NotImplementedError` with your code.") from None
    except Exception as error:
        advice = f" — {notes['raised']}" if notes.get("raised") else ""
        raise Stop(f"Your function raised {describe(error)} {where}{advice}.") from None
    for name, value in given.items():
        if isinstance(value, np.ndarray) and not np.array_equal(value, args[name], equal_nan=True):
            raise Stop(f"Your function changed its argument `{name}` in place — return a new "
                       f"array instead (write `{name} = ...`, not `{name} -= ...` "
                       f"or `{name}[:] = ...`).")
    return result


def as_outputs(raw, expected, outputs, where, returns=None):
    """The learner's result as float64 arrays shaped like ``expected`` (one per name of
    ``outputs``), and for each the low-precision dtype it came in (``"float32"``) or None; Stop
    if it cannot be read as that. ``returns`` words the expected ``return`` line."""
    if raw is None:
        raise Stop(returned_none(where))
    count = len(outputs)
    if count > 1:
        if isinstance(raw, np.ndarray) and raw.shape == (count,) \
                and all(np.shape(e) == () for e in expected):
            raw = tuple(raw)  # k numbers as one array of k
        wanted = f"{count} values, as in `return {returns or ', '.join(outputs)}`"
        if not isinstance(raw, tuple | list):
            raise Stop(f"Your function returned {kind(raw)}, but it should return {wanted}.")
        if len(raw) != count:
            many = f"{len(raw)} value" + ("" if len(raw) == 1 else "s")
            raise Stop(f"Your function returned {many}, but it should return {wanted}.")
        values = raw
    else:
        values = (raw,)
    read = [as_array(name, value, e, where)
            for name, value, e in zip(outputs, values, expected, strict=True)]
    return tuple(a for a, _ in read), tuple(low for _, low in read)


def as_array(name, value, expected, where):
    """One output as a float64 array of ``expected``'s shape, and its low-precision dtype (or
    None); Stop, in the engine's wording, if it is not real numbers of that shape."""
    shape = np.shape(expected)
    wanted = "a number" if shape == () else f"an array of shape {shape}"
    if value is None or isinstance(value, str | bytes | dict | set) or (
            not isinstance(value, np.ndarray | numbers.Number | list | tuple)
            and not hasattr(value, "__array__")):
        raise Stop(f"Your function returned {kind(value)} for `{name}`, but it should be "
                   f"{wanted}.")
    try:
        array = np.asarray(value)
    except Exception:
        raise Stop(f"Your function returned {kind(value)} for `{name}` that numpy cannot turn "
                   f"into an array of numbers; it should be {wanted}.") from None
    if array.dtype.kind not in "iuf":
        what = {"b": "True/False", "c": "complex", "U": "str", "S": "bytes"}.get(
            array.dtype.kind, str(array.dtype))
        raise Stop(f"Your `{name}` holds {what} values, but it should hold real numbers.")
    low = LOW_PRECISION.get(array.dtype)
    if shape == () and array.size == 1:
        array = array.reshape(())
    if array.shape != shape:
        if shape == ():
            raise Stop(f"Your function returned an array of shape {array.shape} for `{name}` "
                       f"{where}, but it should be a number.")
        got = "a single number" if array.shape == () else f"shape {array.shape}"
        raise Stop(f"Your function returned {got} for `{name}` {where}, but expected "
                   f"{wanted}.")
    return array.astype(np.float64), low


def guarded(run, what, when="on one call"):
    """``run()`` as every checker runs its checks: numpy's warnings off, and nothing raised into
    the learner's kernel. Returns ``(None, what run returned)``, or ``(feedback, None)`` when it
    stopped: the :class:`Feedback` a :class:`Stop` carries, the time limit's, or a sentence on
    an answer too strange to inspect."""
    try:
        with np.errstate(all="ignore"):
            return None, run()
    except Stop as stop:
        return stop.feedback, None
    except TimedOut:  # the alarm went off just as the learner's function returned
        return Feedback(False, too_long(when)), None
    except Exception as error:  # the learner returned something too strange to inspect
        return Feedback(False, f"Could not check your {what}: {describe(error)}."), None


# --------------------------------------------------------------------------------------------
# The step checker
# --------------------------------------------------------------------------------------------

def check_steps(fn, reference, cases, *, what, outputs=("x",), steps=STEPS, mistakes=(),
                order=None, returns=None, units=None, plural=False) -> Feedback:
    """Compare ``fn`` with ``reference`` over ``cases`` x ``steps`` calls.

    ``reference`` takes the same arguments as ``fn`` and returns one array or a tuple of arrays
    named ``outputs``. ``mistakes`` is a list of ``(function, hint)``: when a known mistake
    gives the learner's answers on every call of the check (along the reference's own runs),
    its hint is the message's cause. ``order`` names the outputs in the order they are
    compared (default: ``outputs``): compare the state before ``x`` and the message points at
    the line that is wrong. ``returns`` words the ``return`` line ("new_x, new_buf"; default:
    ``new_`` before the outputs that are also arguments); ``units`` gives an output whose
    answer may be 0 its natural scale (:func:`close`); ``plural``: "match", not "matches". Never
    raises an ``Exception``; returns a :class:`Feedback`.
    """
    order = tuple(outputs) if order is None else tuple(order)
    if sorted(order) != sorted(outputs):
        raise ValueError(f"order {order!r} must name each of the outputs {tuple(outputs)!r} once")
    if returns is None:
        returns = ", ".join(f"new_{o}" if o in cases[0].args else o for o in outputs)
    check = _Check(fn, reference, cases, steps, tuple(outputs), order, mistakes, returns,
                   dict(units or {}))

    def run():
        check.renamed = check_signature(fn, list(cases[0].args))
        for c in range(len(cases)):
            check.run_case(c)

    failure, _ = guarded(run, what)
    if failure is not None:
        return failure
    runs = f"{len(cases)} case" + ("s" if len(cases) > 1 else "")
    runs += f" × {steps} steps" if steps > 1 else ""
    verb = "match" if plural else "matches"
    return Feedback(True, f"Correct: your {what} {verb} the reference on {runs}.")


def where_text(case, step, steps, about) -> str:
    """Where a call is, with what the learner needs to reproduce it."""
    if case == 0 and step == 0:
        return f"on the first call ({about})"
    if steps == 1:
        return f"on case {case + 1} ({about})"
    return f"at step {step + 1} of case {case + 1} ({about})"


@dataclass
class _Check:
    """One run of :func:`check_steps`: the learner's function against the reference."""

    fn: Any
    reference: Any
    cases: Sequence[Case]
    steps: int
    outputs: tuple[str, ...]
    order: tuple[str, ...]
    mistakes: Sequence[tuple[Any, str]]
    returns: str
    units: dict[str, float]
    renamed: tuple[str, ...] | None = None
    _learner: list | None = None

    def run_case(self, c):
        case, args = self.cases[c], dict(self.cases[c].args)
        for k in range(self.steps):
            if k < len(case.updates):
                args.update(case.updates[k])
            where = where_text(c, k, self.steps, case.description())
            expected = _as_tuple(self.reference(*copies(args).values()))
            raw = call(self.fn, args, where, self._notes(case, "raised"))
            got, low = as_outputs(raw, expected, self.outputs, where, self.returns)
            for name in self.order:
                i = self.outputs.index(name)
                e, g, unit = expected[i], got[i], self.units.get(name, 0.0)
                if not np.all(np.isfinite(g)):
                    problem, failure = _not_finite(name, e, g, where), "not_finite"
                elif not np.all(close(g, e, unit)):
                    problem, failure = _wrong_value(name, e, g, where, unit), "wrong"
                    if low[i]:
                        raise Stop(problem + low_precision(low[i]) + ".")
                else:
                    continue
                raise Stop(problem + self.cause(args, got, failure, case, e, g, unit) + ".")
            args.update({name: g for name, g in zip(self.outputs, got, strict=True)
                         if name in args})

    def _notes(self, case, failure):
        """The case's notes, and for a raise without one, the order of the arguments."""
        notes = dict(case.notes)
        if failure not in notes and self.renamed:
            notes[failure] = self._order_note()
        return notes

    def _order_note(self) -> str:
        names = list(self.cases[0].args)
        return (f"check the order of your arguments: the checker passes ({', '.join(names)}), "
                f"and yours are ({', '.join(self.renamed)})")

    def cause(self, args, got, failure, case, expected, value, unit) -> str:
        """' — <cause>': the hint of the known mistake that gives the learner's answers on
        every call; else the case's note or the general advice, and the order of the
        arguments if the learner named them otherwise; or ''."""
        hint = self.hint(args, got)
        if hint:
            return f" — it matches {hint}"
        parts = []
        if case.notes.get(failure):
            parts.append(case.notes[failure])
        elif failure == "not_finite":
            parts.append("look for a division by zero or the square root of a negative number")
        elif _round_off(expected, value, unit):
            parts.append(_round_off(expected, value, unit))
        if self.renamed:
            parts.append(self._order_note())
        return (" — " + ", and ".join(parts)) if parts else ""

    def hint(self, args, got) -> str:
        """The hint of the first known mistake that gives ``got`` on this call and the
        learner's answers on every call along the reference's runs, or ''."""
        for mistake, hint in self.mistakes:
            if self._agrees(mistake, args, got) and all(
                    self._agrees(mistake, call_args, answer)
                    for call_args, answer in self._learner_calls()):
                return hint
        return ""

    def _agrees(self, mistake, args, got) -> bool:
        """Whether ``mistake`` on ``args`` gives ``got`` (nan where got is nan), or raises where
        the learner's function gave no answer (``got`` None: it raised, too)."""
        try:
            theirs = _as_tuple(mistake(*copies(args).values()))
        except Exception:
            return got is None
        if got is None:
            return False
        return len(theirs) == len(got) and all(
            np.shape(t) == np.shape(g) and bool(np.all(
                close(g, t, self.units.get(name, 0.0)) | (np.isnan(t) & np.isnan(g))))
            for name, t, g in zip(self.outputs, theirs, got, strict=True))

    def _learner_calls(self):
        """(arguments, the learner's answer or None) for every call along the reference's own
        runs of every case; computed once."""
        if self._learner is None:
            self._learner = []
            for args, expected in self._reference_calls():
                try:
                    answer, _ = as_outputs(call(self.fn, args, ""), expected, self.outputs, "")
                except Stop:
                    answer = None
                self._learner.append((args, answer))
        return self._learner

    def _reference_calls(self):
        """The arguments, and the reference's answer, of every call along the reference's own
        runs of every case."""
        for case in self.cases:
            args = dict(case.args)
            for k in range(self.steps):
                if k < len(case.updates):
                    args.update(case.updates[k])
                expected = _as_tuple(self.reference(*copies(args).values()))
                yield copies(args), expected
                args.update({name: e for name, e in zip(self.outputs, expected, strict=True)
                             if name in args})


def _not_finite(name, expected, got, where) -> str:
    index = first(~np.isfinite(got))
    value = "nan" if np.isnan(got[index]) else "inf"
    return (f"Your `{_at(name, got, index)}` is {value} {where}, where the reference gives "
            f"{num(expected[index])}")


def _wrong_value(name, expected, got, where, unit=0.0) -> str:
    index = first(~close(got, expected, unit))  # the first wrong entry
    e, g = pair(expected[index], got[index])
    return (f"Your `{_at(name, got, index)}` is wrong {where} by "
            f"{abs(got[index] - expected[index]):.2g}: expected {e}, got {g}")


# --------------------------------------------------------------------------------------------
# The cases: seeded shapes and hyperparameters
# --------------------------------------------------------------------------------------------

def stepping_cases(start, settings, seed) -> list[Case]:
    """One Case per ``(shape, grad_scale, hyper)`` in settings: x and fresh grads drawn from
    ``seed``, the state arrays named in ``start`` at zero, and ``t`` counting 1, 2, ... if the
    function takes it. ``start`` lists the arguments in the function's order. Each case says
    x's shape, the gradients' size and the hyperparameters."""
    rng = np.random.default_rng(seed)
    cases = []
    for shape, scale, hyper in settings:
        x = rng.standard_normal(shape)
        grads = scale * rng.standard_normal((STEPS, *shape))
        args = {}
        for name in start:
            args[name] = {"x": x, "grad": grads[0], "t": 1}.get(name, hyper.get(name))
            if args[name] is None:
                args[name] = np.zeros(shape)
        updates = [{"grad": g} | ({"t": k + 1} if "t" in start else {})
                   for k, g in enumerate(grads)]
        about = ", ".join([f"x of shape {shape}", f"gradients of about {scale:g}"]
                          + [f"{k} = {v:g}" for k, v in hyper.items()])
        cases.append(Case(args, updates, about=about))
    return cases


# --------------------------------------------------------------------------------------------
# Small helpers for messages
# --------------------------------------------------------------------------------------------

def returned_none(where) -> str:
    return f"Your function returned None {where} — did you forget the `return`?"


def too_long(where, advice=None) -> str:
    return (f"Your function did not return within {TIME_LIMIT:g} seconds {where}, so the "
            f"checker stopped it — {advice or 'look for a loop that never ends'}.")


def describe(error) -> str:
    text = str(error)
    text = text if len(text) <= 200 else text[:197] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def kind(value) -> str:
    """'a numpy array', 'a float', 'an int', 'a list', ... for a message."""
    if isinstance(value, np.ndarray):
        return "a numpy array"
    if isinstance(value, np.bool_):
        return "a bool"
    if isinstance(value, np.floating):
        return "a float"
    if isinstance(value, np.integer):
        return "an int"
    name = type(value).__name__
    return ("an " if name[0].lower() in "aeiou" else "a ") + name


def first(mask) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(mask)[0])


def _at(name, array, index) -> str:
    return name if array.size == 1 else f"{name}[{', '.join(map(str, index))}]"


def num(value, digits=4) -> str:
    if value == 0 or not np.isfinite(value):
        return str(float(value))
    return f"{value:.{digits}f}" if 1e-3 <= abs(value) < 1e4 else f"{value:.{digits}e}"


def pair(expected, got) -> tuple[str, str]:
    """Both numbers with just enough digits to tell them apart."""
    for digits in range(4, 17):
        e, g = num(expected, digits), num(got, digits)
        if e != g:
            break
    return e, g


def copies(args) -> dict:
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in args.items()}


def _as_tuple(result) -> tuple:
    return tuple(np.asarray(r, dtype=np.float64) for r in result) if isinstance(result, tuple) \
        else (np.asarray(result, dtype=np.float64),)


def source_mentions(fn, word) -> bool:
    """Whether the source of ``fn`` contains ``word`` (False when it cannot be read)."""
    try:
        return word in inspect.getsource(fn)
    except (OSError, TypeError):
        return False
