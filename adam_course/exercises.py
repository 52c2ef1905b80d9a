"""Checkers for the coding exercises: run the learner's function against the reference.

Each checker calls the learner's function on a few seeded cases (shapes ``(1,)``, ``(3,)``,
``(2, 3)``, varied hyperparameters), several consecutive steps each with the function's own
outputs fed back in, and answers with a one-sentence :class:`Feedback`::

    check_gd_step(lambda x, grad, lr: x + lr * grad)
    # ❌ Your `x` is wrong on the first call by 0.16: expected 0.2634, got 0.4277 — it matches
    #    a step uphill: gradient descent subtracts, `x - lr * grad`.

A checker never raises into the learner's kernel, whatever the function does (it may raise,
return None, a list, the wrong shape, nan, change its inputs in place, or never return: a call
is stopped after :data:`TIME_LIMIT` seconds); only ``KeyboardInterrupt`` and ``SystemExit`` get
through. The references, and the known mistakes that are variants of an optimizer, are the
tested updates of :mod:`adam_course.optim` (``sgd_update``, ``rmsprop_update``,
``adam_update``), so an exercise checks against the same code the book then uses.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import numbers
import signal
import threading
import time
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adam_course import optim, rates
from adam_course.data import LinearRegression

__all__ = [
    "Feedback", "Case", "check_steps",
    "check_gd_step", "check_best_step", "check_minibatch_gradient", "check_mean_square_limit",
    "check_momentum_step", "check_nesterov_step", "check_rmsprop_step", "check_torch_eps",
    "check_adam_step", "adam_step_bound", "check_adam_stream", "check_bias_corrected_ema",
    "check_masked_ema", "check_warmup_cosine", "check_keras_rmsprop_port",
]

STEPS = 5

TIME_LIMIT = 5.0
"""Seconds one call of the learner's function may take before the checker stops it (in the
main thread, where a kernel runs cells; elsewhere, and where SIGALRM does not exist, no limit)."""


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
    """One seeded scenario: the first call's arguments (in the order the function takes them)
    and ``updates[k]``, the arguments that change on call k (a new ``grad``, the next ``t``).

    Between calls, each output replaces the argument of the same name (``x``, ``m``, ...).
    """

    args: dict[str, Any]
    updates: Sequence[dict[str, Any]] = field(default_factory=tuple)


class _Stop(Exception):
    """Raised inside a check to stop it with a failing Feedback."""

    def __init__(self, message: str):
        self.feedback = Feedback(False, message)


class _TimedOut(BaseException):
    """Raised by the alarm inside a learner's function that runs too long (a BaseException, so
    that the learner's own ``except Exception`` cannot swallow it)."""


@contextmanager
def _time_limit(seconds):
    """Raise _TimedOut in the block after ``seconds`` (SIGALRM, main thread only).

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
        raise _TimedOut

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
# The generic engine
# --------------------------------------------------------------------------------------------

def check_steps(fn, reference, cases, *, what, outputs=("x",), steps=STEPS, rtol=1e-7,
                atol=1e-10, mistakes=(), order=None) -> Feedback:
    """Compare ``fn`` with ``reference`` over ``cases`` x ``steps`` calls.

    ``reference`` takes the same arguments as ``fn`` and returns one array or a tuple of arrays
    named ``outputs``. ``mistakes`` is a list of ``(function, hint)``: when the learner's wrong
    answer equals what a known mistake gives, the hint is added to the message (an answer with
    a nan or an inf must also agree with the mistake on every other call of the check, so that
    two slips that both give nan are told apart). ``order`` names the outputs in the order they
    are compared (default: ``outputs``): compare the state before ``x`` and the message points
    at the line that is wrong. An output returned in float32 (or float16) that agrees with the
    reference only to that precision is told so. Never raises an ``Exception``; returns a
    :class:`Feedback`.
    """
    order = tuple(outputs) if order is None else tuple(order)
    if sorted(order) != sorted(outputs):
        raise ValueError(f"order {order!r} must name each of the outputs {tuple(outputs)!r} once")
    check = _Check(fn, reference, cases, steps, tuple(outputs), order, rtol, atol, mistakes)

    def run():
        _check_signature(fn, list(cases[0].args))
        for c in range(len(cases)):
            check.run_case(c)

    failure, _ = _guarded(run, what)
    if failure is not None:
        return failure
    runs = f"{len(cases)} case" + ("s" if len(cases) > 1 else "")
    runs += f" × {steps} steps" if steps > 1 else ""
    return Feedback(True, f"Correct: your {what} matches the reference on {runs}.")


def _guarded(run, what, when="on one call"):
    """``run()`` as every checker runs its checks: numpy's warnings off, and nothing raised into
    the learner's kernel. Returns ``(None, what run returned)``, or ``(feedback, None)`` when it
    stopped: the :class:`Feedback` a ``_Stop`` carries, the time limit's, or a sentence on an
    answer too strange to inspect."""
    try:
        with np.errstate(all="ignore"):
            return None, run()
    except _Stop as stop:
        return stop.feedback, None
    except _TimedOut:  # the alarm went off just as the learner's function returned
        return Feedback(False, _too_long(when)), None
    except Exception as error:  # the learner returned something too strange to inspect
        return Feedback(False, f"Could not check your {what}: {_describe(error)}."), None


def _check_signature(fn, names):
    if not callable(fn):
        raise _Stop(f"That is {_kind(fn)}, not a function — pass the function "
                    f"itself (its name, without parentheses).")
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # some builtins have no signature; just call them
        return
    try:
        signature.bind(*names)
    except TypeError:
        name = getattr(fn, "__name__", "your function")
        raise _Stop(f"Your function should take {len(names)} arguments ({', '.join(names)}), "
                    f"but it is defined as {name}{signature}.") from None


_LOW_PRECISION = {np.dtype(np.float32): ("float32", 1e-5), np.dtype(np.float16): ("float16", 3e-3)}
"""A low-precision dtype -> its name and the relative tolerance that answer is held to."""


@dataclass
class _Check:
    """One run of :func:`check_steps`: the learner's function against the reference."""

    fn: Any
    reference: Any
    cases: Sequence[Case]
    steps: int
    outputs: tuple[str, ...]
    order: tuple[str, ...]
    rtol: float
    atol: float
    mistakes: Sequence[tuple[Any, str]]

    def run_case(self, c):
        case, args = self.cases[c], dict(self.cases[c].args)
        for k in range(self.steps):
            if k < len(case.updates):
                args.update(case.updates[k])
            where = _where(c, k, self.steps)
            expected = _as_tuple(self.reference(*_copies(args).values()))
            raw = _call(self.fn, args, where)
            got = _check_structure(raw, expected, self.outputs, where)
            named_e = dict(zip(self.outputs, expected, strict=True))
            named_g = dict(zip(self.outputs, got, strict=True))
            for name in self.order:
                e, g = named_e[name], named_g[name]
                if not np.all(np.isfinite(g)):
                    problem, advice = _not_finite(name, e, g, where)
                elif not np.allclose(g, e, rtol=self.rtol, atol=self.atol):
                    low = _precision_of(raw, self.outputs, name)
                    if low and np.allclose(g, e, rtol=low[1], atol=max(
                            self.atol, float(np.finfo(low[0]).smallest_subnormal))):
                        raise _Stop(_low_precision(name, e, g, where, low[0], self.rtol,
                                                    self.atol) + ".")
                    problem, advice = _wrong_value(name, e, g, where, self.rtol, self.atol), ""
                else:
                    continue
                raise _Stop(problem + (self.hint(args, got) or advice) + ".")
            args.update({name: g for name, g in zip(self.outputs, got, strict=True)
                         if name in args})

    def hint(self, args, got) -> str:
        """' — it matches <hint>' if a known mistake gives exactly what the learner gave (and,
        for an answer with a nan or an inf, also on every call along the reference's runs)."""
        finite = all(np.all(np.isfinite(g)) for g in got)
        for mistake, hint in self.mistakes:
            if _agrees(mistake, args, got, self.rtol, self.atol) and (
                    finite or self._agrees_everywhere(mistake)):
                return f" — it matches {hint}"
        return ""

    def _agrees_everywhere(self, mistake) -> bool:
        for args in self._reference_calls():
            try:
                got = _as_tuple(_call(self.fn, args, ""))
            except _Stop:
                return False
            if not _agrees(mistake, args, got, self.rtol, self.atol):
                return False
        return True

    def _reference_calls(self):
        """The arguments of every call along the reference's own runs of every case."""
        for case in self.cases:
            args = dict(case.args)
            for k in range(self.steps):
                if k < len(case.updates):
                    args.update(case.updates[k])
                yield _copies(args)
                expected = _as_tuple(self.reference(*_copies(args).values()))
                args.update({name: e for name, e in zip(self.outputs, expected, strict=True)
                             if name in args})


def _agrees(mistake, args, got, rtol, atol) -> bool:
    """Whether ``mistake`` on ``args`` gives ``got`` (nan where got is nan); False if the
    mistake does not apply (raises, or returns something else)."""
    try:
        theirs = _as_tuple(mistake(*_copies(args).values()))
        return len(theirs) == len(got) and all(
            np.shape(t) == np.shape(g) and np.allclose(t, g, rtol=rtol, atol=atol, equal_nan=True)
            for t, g in zip(theirs, got, strict=True))
    except Exception:
        return False


def _precision_of(raw, outputs, name):
    """(dtype name, tolerance) if the learner returned output ``name`` in a low precision."""
    value = raw[outputs.index(name)] if len(outputs) > 1 else raw
    return _LOW_PRECISION.get(getattr(value, "dtype", None))


def _low_precision(name, expected, got, where, dtype, rtol, atol) -> str:
    digits = round(-np.log10(rtol))
    return (_wrong_value(name, expected, got, where, rtol, atol) + f" — your function returns "
            f"{dtype} numbers, which keep only about {np.finfo(dtype).precision} significant "
            f"digits, and the check asks for {digits}: compute in float64, numpy's default "
            f"(leave out the np.{dtype})")


def _call(fn, args, where):
    """Call fn on copies of args; report a raise or an argument changed in place."""
    given = _copies(args)
    try:
        with _time_limit(TIME_LIMIT):
            result = fn(*given.values())
    except _TimedOut:
        raise _Stop(_too_long(where)) from None
    except NotImplementedError:
        raise _Stop("Not implemented yet: your function raised NotImplementedError — replace "
                    "the `raise NotImplementedError` with your code.") from None
    except Exception as error:
        raise _Stop(f"Your function raised {_describe(error)} {where}.") from None
    for name, value in given.items():
        if isinstance(value, np.ndarray) and not np.array_equal(value, args[name], equal_nan=True):
            raise _Stop(f"Your function changed its argument `{name}` in place — return a new "
                        f"array instead (write `{name} = ...`, not `{name} -= ...` "
                        f"or `{name}[:] = ...`).")
    return result


def _check_structure(got, expected, outputs, where) -> tuple[np.ndarray, ...]:
    """The learner's result as a tuple of float arrays shaped like the reference's, or _Stop."""
    if got is None:
        raise _Stop(f"Your function returned None {where} — did you forget the `return`?")
    if len(expected) > 1:
        wanted = f"{len(expected)} values: the new {_names(outputs)}"
        if not isinstance(got, tuple | list):
            raise _Stop(f"Your function returned {_kind(got)}, but it should return {wanted}.")
        if len(got) != len(expected):
            count = f"{len(got)} value" + ("" if len(got) == 1 else "s")
            raise _Stop(f"Your function returned {count}, but it should return {wanted}.")
    else:
        got = (got,)
    return tuple(_check_array(name, g, e, where)
                 for name, g, e in zip(outputs, got, expected, strict=True))


def _check_array(name, got, expected, where) -> np.ndarray:
    if isinstance(got, list | tuple):
        raise _Stop(f"Your function returned a {type(got).__name__} for `{name}`; return a numpy "
                    f"array instead (array arithmetic gives one, or use `np.array(...)`).")
    if not isinstance(got, np.ndarray):
        kind = "None" if got is None else _kind(got)
        raise _Stop(f"Your function returned {kind} for `{name}`, but it should be a numpy "
                    f"array of shape {expected.shape}.")
    if got.shape != expected.shape:
        raise _Stop(f"Your function returned shape {got.shape} for `{name}` {where}, but "
                    f"expected {expected.shape}.")
    if not (np.issubdtype(got.dtype, np.integer) or np.issubdtype(got.dtype, np.floating)):
        raise _Stop(f"Your `{name}` holds {got.dtype} values, but it should hold real numbers.")
    return got.astype(np.float64)


def _not_finite(name, expected, got, where) -> tuple[str, str]:
    index = _first(~np.isfinite(got))
    value = "nan" if np.isnan(got[index]) else "inf"
    return (f"Your `{_at(name, got, index)}` is {value} {where}, where the reference gives "
            f"{_num(expected[index])}",
            " — look for a division by zero or the square root of a negative number")


def _wrong_value(name, expected, got, where, rtol, atol) -> str:
    index = _first(~np.isclose(got, expected, rtol=rtol, atol=atol))  # the first wrong entry
    e, g = _pair(expected[index], got[index])
    return (f"Your `{_at(name, got, index)}` is wrong {where} by "
            f"{abs(got[index] - expected[index]):.2g}: expected {e}, got {g}")


# --- small helpers for messages --------------------------------------------------------------

def _too_long(where) -> str:
    return (f"Your function did not return within {TIME_LIMIT:g} seconds {where}, so the "
            f"checker stopped it — look for a loop that never ends.")


def _copies(args) -> dict:
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in args.items()}


def _as_tuple(result) -> tuple:
    return tuple(np.asarray(r, dtype=np.float64) for r in result) if isinstance(result, tuple) \
        else (np.asarray(result, dtype=np.float64),)


def _where(case, step, steps) -> str:
    if case == 0 and step == 0:
        return "on the first call"
    return f"on case {case + 1}" if steps == 1 else f"at step {step + 1} of case {case + 1}"


def _describe(error) -> str:
    text = str(error)
    text = text if len(text) <= 200 else text[:197] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _kind(value) -> str:
    if isinstance(value, np.ndarray):
        return "a numpy array"
    name = type(value).__name__
    return ("an " if name[0].lower() in "aeiou" else "a ") + name


def _names(outputs) -> str:
    quoted = [f"`{n}`" for n in outputs]
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _first(mask) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(mask)[0])


def _at(name, array, index) -> str:
    return name if array.size == 1 else f"{name}[{', '.join(map(str, index))}]"


def _num(value, digits=4) -> str:
    if value == 0 or not np.isfinite(value):
        return str(float(value))
    return f"{value:.{digits}f}" if 1e-3 <= abs(value) < 1e4 else f"{value:.{digits}e}"


def _pair(expected, got) -> tuple[str, str]:
    """Both numbers with just enough digits to tell them apart."""
    for digits in range(4, 17):
        e, g = _num(expected, digits), _num(got, digits)
        if e != g:
            break
    return e, g


# --------------------------------------------------------------------------------------------
# The cases: seeded shapes and hyperparameters
# --------------------------------------------------------------------------------------------

def _stepping_cases(start, settings, seed) -> list[Case]:
    """One Case per ``(shape, grad_scale, hyper)`` in settings: x and fresh grads drawn from
    ``seed``, the state arrays named in ``start`` at zero, and ``t`` counting 1, 2, ... if the
    function takes it. ``start`` lists the arguments in the function's order."""
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
        cases.append(Case(args, updates))
    return cases


# --------------------------------------------------------------------------------------------
# The checkers of the chapters
# --------------------------------------------------------------------------------------------

def check_gd_step(fn) -> Feedback:
    """Check ``fn(x, grad, lr) -> new x``, one gradient-descent step x - lr * grad. Chapter 1."""
    def reference(x, grad, lr):
        opt = optim.sgd(lr=lr)
        return opt.step(x, grad, opt.init(x))[0]

    settings = [((1,), 1.0, {"lr": 0.1}), ((3,), 1.0, {"lr": 0.5}),
                ((2, 3), 10.0, {"lr": 0.01}), ((4,), 0.1, {"lr": 2.0})]
    mistakes = [
        (lambda x, grad, lr: x + lr * grad,
         "a step uphill: gradient descent subtracts, `x - lr * grad`"),
        (lambda x, grad, lr: x - grad, "a step without the step size: multiply grad by `lr`"),
    ]
    return check_steps(fn, reference, _stepping_cases(("x", "grad", "lr"), settings, seed=1),
                       what="gradient-descent step", mistakes=mistakes)


def _numbers_as_arrays(fn, count=1):
    """``fn``, with every real number it returns (alone, or inside a tuple or list) turned into
    a 0-d float array, so that :func:`check_steps` can compare answers that are plain numbers
    (``2 / (L + mu)`` is a float, not an array). A size-1 array counts as a number, and an
    array of ``count > 1`` numbers as that many values; anything else is passed on untouched
    for the engine to judge. ``functools.wraps`` keeps ``fn``'s signature, so the engine still
    reports a wrong one."""
    def number(value):
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            return np.asarray(value, dtype=np.float64)
        if isinstance(value, np.ndarray) and value.size == 1:
            return value.reshape(())
        return value

    @functools.wraps(fn)
    def wrapped(*args):
        result = fn(*args)
        if count > 1 and isinstance(result, np.ndarray) and result.shape == (count,):
            result = tuple(result)
        if isinstance(result, tuple | list):
            return type(result)(number(r) for r in result)
        return number(result)
    return wrapped


def check_best_step(fn) -> Feedback:
    """Check ``fn(A) -> (lr, rate)``: the best fixed step of gradient descent on the bowl
    ``1/2 x^T A x`` (best in the worst case) and the factor ``rate`` such that each step then
    multiplies the distance to the minimum by at most ``rate`` (exactly, from the worst start).
    Chapter 1.

    With ``L`` and ``mu`` the largest and smallest eigenvalues of the symmetric positive
    definite ``A``: ``lr = 2 / (L + mu)``, ``rate = (L - mu) / (L + mu)``
    (:func:`adam_course.rates.gd_optimal`). The cases are bowls whose axes are not the
    coordinate axes, of sizes 1 to 5.
    """
    def eigen(A):
        curvatures = np.linalg.eigvalsh(A)
        return curvatures[-1], curvatures[0]

    def reference(A):
        return rates.gd_optimal(*eigen(A))

    def best(L, mu):
        return 2 / (L + mu), (L - mu) / (L + mu)

    def diagonal(A):
        return best(np.max(np.diag(A)), np.min(np.diag(A)))

    def one_over_L(A):
        L, mu = eigen(A)
        return 1 / L, 1 - mu / L

    def two_over_L(A):
        L, mu = eigen(A)
        return 2 / L, max(1 - 2 * mu / L, 1.0)

    def squared(A):
        lr, rate = best(*eigen(A))
        return lr, rate**2

    def swapped(A):
        lr, rate = best(*eigen(A))
        return rate, lr

    def second_largest(A):
        curvatures = np.linalg.eigvalsh(A)
        return best(curvatures[1], curvatures[0])

    rng = np.random.default_rng(11)
    cases = []
    for curvatures in [(1.0, 10.0), (0.5, 2.0, 8.0), (4.0,), (3.0, 1.0, 9.0, 2.0),
                       (0.01, 0.3, 0.5, 0.7, 1.0)]:
        q, _ = np.linalg.qr(rng.standard_normal((len(curvatures), len(curvatures))))
        if len(curvatures) == 2:  # the chapter's bowl: tilted by 30 degrees
            c, s = np.cos(np.pi / 6), np.sin(np.pi / 6)
            q = np.array([[c, -s], [s, c]])
        A = q @ np.diag(curvatures) @ q.T
        cases.append(Case({"A": (A + A.T) / 2}))

    mistakes = [
        (diagonal, "the diagonal of A: those are the curvatures along the coordinate axes; the "
         "bowl's own curvatures are the eigenvalues of A (`np.linalg.eigvalsh(A)`)"),
        (one_over_L, "lr = 1/L, which solves the steepest direction in one step but leaves the "
         "flattest one shrinking by 1 - mu/L: balance |1 - lr mu| and |1 - lr L| instead"),
        (two_over_L, "lr = 2/L, the stability limit, where the steepest direction no longer "
         "converges (rate 1): the best step is well below it"),
        (squared, "the square of the rate, the factor for f - f*: the distance shrinks by "
         "(L - mu)/(L + mu) per step"),
        (swapped, "the two values swapped: return `(lr, rate)`"),
        (second_largest, "the two smallest eigenvalues: L is the largest, "
         "`np.linalg.eigvalsh(A)[-1]` (eigvalsh sorts them in increasing order)"),
    ]
    fn = _numbers_as_arrays(fn, count=2) if callable(fn) else fn
    feedback = check_steps(fn, reference, cases, what="best step and rate",
                           outputs=("lr", "rate"), steps=1, mistakes=mistakes)
    # the engine's wording is for one updated array; here there are two answers, and no update
    message = feedback.message.replace("best step and rate matches", "best step and rate match")
    message = message.replace("the new `lr` and `rate`", "`lr` and `rate`, as in `return lr, rate`")
    return Feedback(feedback.ok, message)


def check_minibatch_gradient(fn) -> Feedback:
    """Check ``fn(w, X, y) -> gradient of 1/(2B) ||X w - y||^2`` on minibatches. Chapter 2.

    ``X`` and ``y`` hold one minibatch of ``B = len(y)`` rows. The reference is
    :meth:`adam_course.data.LinearRegression.batch_grad`, ``X^T (X w - y) / B``.
    """
    rng = np.random.default_rng(2)
    cases = []
    for n, dim, batch in [(50, 1, 5), (100, 3, 10), (30, 2, 30), (200, 5, 1), (80, 4, 16)]:
        problem = LinearRegression(n=n, dim=dim, seed=n)
        rows = rng.choice(n, size=batch, replace=False)
        w = rng.standard_normal(dim)
        cases.append(Case({"w": w, "X": problem.X[rows], "y": problem.y[rows]}))

    reference = problem.batch_grad  # X^T (X w - y) / B for the (X, y) it is given

    mistakes = [
        (lambda w, X, y: X.T @ (y - X @ w) / len(y),
         "the gradient with the wrong sign: the residual is `X @ w - y`"),
        (lambda w, X, y: X.T @ (X @ w - y),
         "the gradient of the sum: divide by the batch size `B = len(y)`"),
        (lambda w, X, y: 2 * X.T @ (X @ w - y) / len(y),
         "twice the gradient: the 1/2 in 1/(2B) cancels the 2 from the square"),
    ]
    return check_steps(fn, reference, cases, what="minibatch gradient", outputs=("grad",),
                       steps=1, mistakes=mistakes)


def check_mean_square_limit(fn) -> Feedback:
    """Check ``fn(x, B) -> limit``: SGD's mean-square stability limit on a one-feature least-
    squares problem. Chapter 2.

    The loss is ``1/(2n) sum_i (x_i w - y_i)^2`` and each step uses a minibatch of ``B`` of the
    ``n`` examples, drawn without replacement. The batch curvature ``h_B``, the mean of
    ``x_i^2`` over the batch, has mean ``lam = mean(x**2)`` and variance
    ``var(x**2) / B * (n - B) / (n - 1)``; the second moment of ``w_t - w*`` stays bounded iff
    ``E[(1 - lr h_B)^2] < 1``, that is ``lr < 2 lam / E[h_B^2]`` with
    ``E[h_B^2] = lam^2 + var(h_B)``.
    """
    def limit(x, B, spread=None, fpc=True, ddof=0, per_batch=True, numerator=True, factor=2.0,
              mean_square=True):
        h = x**2
        lam = h.mean()
        var = np.var(x if spread == "x" else h, ddof=ddof)
        var_B = var / B if per_batch else var
        if fpc and len(x) > 1:
            var_B = var_B * (len(x) - B) / (len(x) - 1)
        second = lam**2 + var_B if mean_square else var_B
        return factor * (lam if numerator else 1.0) / second

    def mistake(**how):
        return lambda x, B: limit(x, B, **how)

    rng = np.random.default_rng(12)
    cases = [Case({"x": rng.standard_normal(8), "B": 3}),
             Case({"x": 2.0 * rng.standard_normal(20), "B": 5}),
             Case({"x": rng.exponential(size=50), "B": 1}),
             Case({"x": rng.standard_normal(12), "B": 12}),  # B = n: the full gradient, 2/lam
             Case({"x": rng.standard_normal(1000), "B": 10})]
    mistakes = [
        (lambda x, B: 2 / np.mean(x**2), "2/lam, gradient descent's limit, which only keeps the "
         "mean stable: the second moment needs E[(1 - lr h_B)^2] < 1, and h_B changes from batch "
         "to batch"),
        (mistake(fpc=False), "the variance of h_B for batches drawn with replacement: without "
         "replacement it is smaller by the finite-population factor (n - B)/(n - 1)"),
        (mistake(spread="x"), "the variance of x: the batch curvature h_B is a mean of x_i^2, "
         "so use the variance of `x**2`"),
        (mistake(ddof=1), "the sample variance (ddof=1): the finite-population formula uses the "
         "population variance, `np.var(x**2)`"),
        (mistake(per_batch=False), "the variance of a single x_i^2: the variance of the mean of B "
         "of them is B times smaller (before the finite-population factor)"),
        (mistake(per_batch=False, fpc=False), "2 lam / mean(x**4), the limit for one example per "
         "step, whatever B: the batch curvature h_B is the mean of B of the x_i^2, so its variance "
         "is var(x**2)/B times (n - B)/(n - 1)"),
        (lambda x, B: 1 / np.mean(x**2), "1/lam, the step that would land the mean on w* in one "
         "step: the limit is the step size where E[(1 - lr h_B)^2] reaches 1"),
        (mistake(numerator=False), "2/E[h_B^2]: 1 - 2 lr lam + lr^2 E[h_B^2] < 1 gives "
         "lr < 2 lam / E[h_B^2]"),
        (mistake(factor=1.0), "half the limit: 1 - 2 lr lam + lr^2 E[h_B^2] < 1 gives "
         "lr < 2 lam / E[h_B^2]"),
        (mistake(mean_square=False), "a limit with Var(h_B) in place of E[h_B^2]: the second "
         "moment is the variance plus the square of the mean, lam^2 + Var(h_B)"),
    ]
    fn = _numbers_as_arrays(fn) if callable(fn) else fn
    return check_steps(fn, limit, cases, what="mean-square stability limit",
                       outputs=("limit",), steps=1, mistakes=mistakes)


def check_momentum_step(fn) -> Feedback:
    """Check ``fn(x, buf, grad, lr, momentum) -> (new_x, new_buf)``. Chapter 3.

    Torch's heavy-ball form, starting from ``buf = 0``::

        buf = momentum * buf + grad
        x = x - lr * buf
    """
    def momentum_step(sign=1, ema_form=False):
        """optim.sgd_update's step (t > 1: buf is not replaced by the first gradient)."""
        def step(x, buf, grad, lr, momentum):
            x, state = optim.sgd_update(x, grad, optim.SGDState(t=1, momentum_buffer=buf),
                                        lr=sign * lr, momentum=momentum,
                                        dampening=momentum if ema_form else 0.0)
            return x, state.momentum_buffer
        return step

    reference = momentum_step()

    settings = [((1,), 1.0, {"lr": 0.1, "momentum": 0.9}),
                ((3,), 1.0, {"lr": 0.05, "momentum": 0.5}),
                ((2, 3), 3.0, {"lr": 0.01, "momentum": 0.99}),
                ((4,), 0.1, {"lr": 1.0, "momentum": 0.8})]
    mistakes = [
        (momentum_step(ema_form=True),  # dampening = momentum: the EMA form
         "the EMA form `buf = momentum * buf + (1 - momentum) * grad`; this exercise uses torch's "
         "heavy-ball form `buf = momentum * buf + grad`"),
        (momentum_step(sign=-1), "a step uphill: subtract, `x - lr * buf`"),
        (lambda x, buf, grad, lr, mu: (x - lr * grad, mu * buf + grad),
         "a plain gradient step: x should move along the new buffer, `x - lr * buf`"),
        (lambda x, buf, grad, lr, mu: (x - lr * buf, mu * buf + grad),
         "a step along the old buffer: update `buf` first, then `x - lr * buf`"),
        (lambda x, buf, grad, lr, mu: (mu * buf + grad, x - lr * (mu * buf + grad)),
         "`(new_buf, new_x)`, the two outputs in the wrong order: return `(new_x, new_buf)`"),
        (lambda x, buf, grad, lr, mu: (x - (mu * buf + lr * grad), mu * buf + lr * grad),
         "the learning rate inside the buffer, `buf = momentum * buf + lr * grad`; torch keeps "
         "`buf = momentum * buf + grad` and multiplies by lr when it steps (the two agree only "
         "while lr stays constant)"),
        (lambda x, buf, grad, lr, mu: (x + (mu * buf - lr * grad), mu * buf - lr * grad),
         "Sutskever's (and Keras's) velocity `buf = momentum * buf - lr * grad`, `x + buf`; "
         "torch's buffer is `momentum * buf + grad`, and the step is `x - lr * buf`"),
        (lambda x, buf, grad, lr, mu: (x - lr * (grad + mu * (mu * buf + grad)), mu * buf + grad),
         "Nesterov's step `x - lr * (grad + momentum * buf)`; the heavy ball steps along the "
         "buffer itself, `x - lr * buf`"),
    ]
    return check_steps(fn, reference, _stepping_cases(("x", "buf", "grad", "lr", "momentum"),
                                                      settings, seed=3),
                       what="momentum step", outputs=("x", "buf"), mistakes=mistakes)


def check_nesterov_step(fn) -> Feedback:
    """Check ``fn(x, buf, grad, lr, momentum) -> (new_x, new_buf)``, torch's Nesterov. Chapter 3.

    ``x`` is torch's parameter, the look-ahead point of Sutskever's form, and ``grad`` the
    gradient there; ``buf`` is torch's buffer (zeros before a run's first step; the first
    three cases start mid-run)::

        buf = momentum * buf + grad
        x = x - lr * (grad + momentum * buf)
    """
    def reference(x, buf, grad, lr, momentum):
        opt = optim.sgd(lr=lr, momentum=momentum, nesterov=True)
        x, state = opt.step(x, grad, opt.init(x)._replace(t=1, momentum_buffer=buf))
        return x, state.momentum_buffer

    def new_buf(buf, grad, mu):
        return mu * buf + grad

    settings = [((1,), 1.0, {"lr": 0.1, "momentum": 0.9}),
                ((3,), 1.0, {"lr": 0.05, "momentum": 0.5}),
                ((2, 3), 3.0, {"lr": 0.01, "momentum": 0.99}),
                ((4,), 0.1, {"lr": 0.7, "momentum": 0.8})]
    mistakes = [
        (lambda x, buf, grad, lr, mu: (x - lr * new_buf(buf, grad, mu), new_buf(buf, grad, mu)),
         "the heavy ball, `x - lr * buf` (the same as `x - lr * (grad + momentum * old_buf)`): "
         "Nesterov's step adds `momentum` times the *new* buffer to the gradient"),
        (lambda x, buf, grad, lr, mu: (x - lr * (grad + mu * new_buf(buf, grad, mu)),
                                       mu * buf - lr * grad),
         "Sutskever's velocity `v = momentum * v - lr * grad` as the buffer; this exercise "
         "stores torch's `buf = momentum * buf + grad` (v = -lr * buf)"),
        (lambda x, buf, grad, lr, mu: (x + lr * (grad + mu * new_buf(buf, grad, mu)),
                                       new_buf(buf, grad, mu)),
         "a step uphill: subtract, `x - lr * (...)`"),
        (lambda x, buf, grad, lr, mu: (x - lr * (grad + new_buf(buf, grad, mu)),
                                       new_buf(buf, grad, mu)),
         "the look-ahead without its factor `momentum`: the point it leads to is "
         "`momentum * buf` further, not `buf`"),
        (lambda x, buf, grad, lr, mu: (x - lr * mu * new_buf(buf, grad, mu),
                                       new_buf(buf, grad, mu)),
         "a step along `momentum * buf` alone: the gradient at the look-ahead point enters the "
         "step too, `grad + momentum * buf`"),
        (lambda x, buf, grad, lr, mu: (x - lr * (grad - mu * new_buf(buf, grad, mu)),
                                       new_buf(buf, grad, mu)),
         "a minus sign on the momentum term, `grad - momentum * buf`: the look-ahead adds it, "
         "`x - lr * (grad + momentum * buf)`"),
        (lambda x, buf, grad, lr, mu: (new_buf(buf, grad, mu),
                                       x - lr * (grad + mu * new_buf(buf, grad, mu))),
         "`(new_buf, new_x)`, the two outputs in the wrong order: return `(new_x, new_buf)`"),
        (lambda x, buf, grad, lr, mu: (x - lr * (grad + mu * (mu * buf + (1 - mu) * grad)),
                                       mu * buf + (1 - mu) * grad),
         "the EMA buffer `buf = momentum * buf + (1 - momentum) * grad`; torch's buffer is the "
         "sum `momentum * buf + grad`"),
        (lambda x, buf, grad, lr, mu: (x + mu * (mu * buf - lr * grad) - lr * grad,
                                       mu * buf - lr * grad),
         "Keras's velocity form, `buf = momentum * buf - lr * grad` and "
         "`x + momentum * buf - lr * grad`; this exercise keeps torch's buffer "
         "`buf = momentum * buf + grad` and steps `x - lr * (grad + momentum * buf)`"),
    ]
    # Mid-run buffers in the first three cases, so that the slips differ from the first call
    # on (with buf = 0 several coincide); the last case starts a run, buf = 0.
    cases = _stepping_cases(("x", "buf", "grad", "lr", "momentum"), settings, seed=7)
    rng = np.random.default_rng(9)
    for case in cases[:3]:
        case.args["buf"] = rng.standard_normal(case.args["x"].shape)
    return check_steps(fn, reference, cases, what="Nesterov step", outputs=("x", "buf"),
                       mistakes=mistakes)


def check_rmsprop_step(fn) -> Feedback:
    """Check ``fn(x, square_avg, grad, lr, alpha, eps) -> (new_x, new_square_avg)``. Chapter 4.

    Starting from ``square_avg = 0``, as torch's RMSProp (ε outside the square root)::

        square_avg = alpha * square_avg + (1 - alpha) * grad**2
        x = x - lr * grad / (sqrt(square_avg) + eps)
    """
    def rmsprop_step(sign=1, swapped=False):
        """optim.rmsprop_update's step; ``swapped`` uses 1 - alpha as the decay."""
        def step(x, square_avg, grad, lr, alpha, eps):
            state = optim.RMSPropState(t=0, square_avg=square_avg, grad_avg=None,
                                       momentum_buffer=None)
            x, state = optim.rmsprop_update(x, grad, state, lr=sign * lr,
                                            alpha=1 - alpha if swapped else alpha, eps=eps)
            return x, state.square_avg
        return step

    reference = rmsprop_step()

    def rmsprop_with(avg, denominator):
        """A hand-written RMSProp step, for the mistakes that are not a setting of the update."""
        def step(x, s, g, lr, alpha, eps):
            s = avg(s, g, alpha)
            return x - lr * g / denominator(s, eps), s
        return step

    def ema_sq(s, g, a):
        return a * s + (1 - a) * g**2

    settings = [((1,), 1.0, {"lr": 0.01, "alpha": 0.99, "eps": 1e-8}),
                ((3,), 1.0, {"lr": 0.1, "alpha": 0.9, "eps": 1e-8}),
                ((2, 3), 1e-6, {"lr": 0.001, "alpha": 0.99, "eps": 1e-8}),  # tiny grads: ε shows
                ((4,), 5.0, {"lr": 0.5, "alpha": 0.5, "eps": 0.1})]
    mistakes = [
        (rmsprop_with(ema_sq, lambda s, eps: np.sqrt(s + eps)),
         "ε inside the square root, `sqrt(square_avg + eps)`; torch puts it outside: "
         "`sqrt(square_avg) + eps`"),
        (rmsprop_step(sign=-1),
         "a step uphill: subtract, `x - lr * grad / (sqrt(square_avg) + eps)`"),
        (rmsprop_with(ema_sq, lambda s, eps: s + eps),
         "dividing by square_avg itself: divide by its square root"),
        (rmsprop_step(swapped=True),
         "alpha and 1 - alpha swapped: keep `alpha * square_avg`, add `(1 - alpha) * grad**2`"),
        (rmsprop_with(lambda s, g, a: a * s + (1 - a) * g, lambda s, eps: np.sqrt(s) + eps),
         "an average of grad, not of its square: use `grad**2`"),
        (lambda x, s, g, lr, alpha, eps: (x - lr * g / (np.sqrt(s) + eps), ema_sq(s, g, alpha)),
         "a step with the old average: update `square_avg` first, then divide by the root of "
         "the new one"),
        (lambda x, s, g, lr, alpha, eps: reference(x, s, g, lr, alpha, eps)[::-1],
         "`(new_square_avg, new_x)`, the two outputs in the wrong order: return "
         "`(new_x, new_square_avg)`"),
        (rmsprop_with(lambda s, g, a: s + g**2, lambda s, eps: np.sqrt(s) + eps),
         "AdaGrad's sum `square_avg + grad**2`; RMSProp keeps a moving average, "
         "`alpha * square_avg + (1 - alpha) * grad**2`"),
    ]
    return check_steps(fn, reference, _stepping_cases(("x", "square_avg", "grad", "lr", "alpha",
                                                       "eps"), settings, seed=4),
                       what="RMSProp step", outputs=("x", "square_avg"), mistakes=mistakes)


def check_torch_eps(fn) -> Feedback:
    """Check ``fn(v, eps) -> eps_torch``, torch's ε giving Keras's step at this ``v``. Chapter 4.

    Keras's RMSprop and Adagrad divide by ``sqrt(v + eps)``, torch by ``sqrt(v) + eps_torch``;
    the two steps agree at a given ``v >= 0`` exactly when::

        eps_torch = sqrt(v + eps) - sqrt(v)     (= eps / (sqrt(v + eps) + sqrt(v)))

    ``v`` is an array (any shape, zeros included); ``eps > 0`` a number. The answer is compared
    to 1e-9 relative, so any exact form passes.
    """
    def reference(v, eps):
        return eps / (np.sqrt(v + eps) + np.sqrt(v))  # no cancellation for v >> eps

    rng = np.random.default_rng(8)
    cases = []
    for eps, shape in [(1e-7, (7,)), (1e-6, (3,)), (1e-3, (2, 3)), (0.1, (4,)), (1e-8, (1,))]:
        v = eps * np.geomspace(1e-3, 1e4, int(np.prod(shape))).reshape(shape)  # around eps
        v = rng.permutation(v.ravel()).reshape(shape)
        v.flat[0] = 0.0 if shape != (1,) else eps  # v = 0 in every case but the last
        cases.append(Case({"v": v, "eps": eps}))
    mistakes = [
        (lambda v, eps: np.sqrt(eps) + 0 * v, "`sqrt(eps)`, which gives Keras's step only at "
         "v = 0; at this v the two denominators `sqrt(v + eps)` and `sqrt(v) + eps_torch` must "
         "be equal"),
        (lambda v, eps: eps + 0 * v, "Keras's `eps` itself: torch adds its ε outside the root, "
         "so `sqrt(v) + eps` is not `sqrt(v + eps)`; solve for the ε that makes them equal"),
        (lambda v, eps: np.sqrt(v + eps), "Keras's whole denominator `sqrt(v + eps)`; torch "
         "adds its ε to `sqrt(v)`, so subtract `sqrt(v)`"),
        (lambda v, eps: eps / (2 * np.sqrt(v)), "the first-order approximation "
         "`eps / (2 sqrt(v))`, good only for v much larger than eps and infinite at v = 0; "
         "solve `sqrt(v) + eps_torch = sqrt(v + eps)` exactly"),
        (lambda v, eps: np.sqrt(v) - np.sqrt(v + eps), "`sqrt(v) - sqrt(v + eps)`, the right "
         "size with the wrong sign: `sqrt(v + eps) - sqrt(v)` is positive"),
    ]
    return check_steps(fn, reference, cases, what="torch ε", outputs=("eps_torch",), steps=1,
                       rtol=1e-9, atol=0.0, mistakes=mistakes)


def check_adam_step(fn) -> Feedback:
    """Check ``fn(x, m, v, grad, t, lr, beta1, beta2, eps) -> (new_x, new_m, new_v)``. Chapter 5.

    Kingma & Ba's Algorithm 1 as torch computes it, ``t = 1`` on the first step, ``m = v = 0``
    before it, ε outside the square root::

        m = beta1 * m + (1 - beta1) * grad;   v = beta2 * v + (1 - beta2) * grad**2
        m_hat = m / (1 - beta1**t);           v_hat = v / (1 - beta2**t)
        x = x - lr * m_hat / (sqrt(v_hat) + eps)

    The new ``m`` and ``v`` are compared before ``x``, so a wrong state is reported as such.
    ε inside the square root (and Keras's ε̂) cannot be told apart in general (for gradients
    much larger than sqrt(ε) the forms agree to round-off); the case with tiny gradients and
    the one with a large ε catch them.
    """
    def adam_step(shift=0, sign=1, inside=False, correct="both"):
        """optim.adam_update's step, with t shifted, lr's sign flipped, eps inside the root
        (its ``eps_root``) or the bias correction left out (its ``correct``)."""
        def step(x, m, v, grad, t, lr, beta1, beta2, eps):
            state = optim.AdamState(t=t - 1 + shift, m=m, v=v, v_max=None)
            betas = (np.float64(beta1), np.float64(beta2))  # 1 - beta**0 = 0 then divides as
            # the learner's numpy code does (to inf), not with a ZeroDivisionError
            x, state = optim.adam_update(x, grad, state, lr=sign * lr, betas=betas,
                                         eps=0.0 if inside else eps,
                                         eps_root=eps if inside else 0.0, correct=correct)
            return x, state.m, state.v
        return step

    def written(m_rule=None, v_rule=None, m_hat=None, v_hat=None, denominator=None,
                returned=None, new_state_in_x=True):
        """Adam as a learner writes it, with any of its lines replaced by a slip."""
        def step(x, m, v, grad, t, lr, beta1, beta2, eps):
            b1, b2 = np.float64(beta1), np.float64(beta2)
            old_m, old_v = m, v
            m = (m_rule or (lambda m, g, b1, b2: b1 * m + (1 - b1) * g))(m, grad, b1, b2)
            v = (v_rule or (lambda v, g, b1, b2: b2 * v + (1 - b2) * g**2))(v, grad, b1, b2)
            mm, vv = (m, v) if new_state_in_x else (old_m, old_v)
            mh = (m_hat or (lambda m, t, b1, b2: m / (1 - b1**t)))(mm, t, b1, b2)
            vh = (v_hat or (lambda v, t, b1, b2: v / (1 - b2**t)))(vv, t, b1, b2)
            new_x = x - (denominator or (lambda mh, vh, eps, lr, t, b1, b2:
                                         lr * mh / (np.sqrt(vh) + eps)))(mh, vh, eps, lr, t,
                                                                          b1, b2)
            return (returned or (lambda x, m, v, mh, vh: (x, m, v)))(new_x, m, v, mh, vh)
        return step

    def keras(mh, vh, eps, lr, t, b1, b2):
        """Keras's form (c): raw m and v, lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t)."""
        m, v = mh * (1 - b1**t), vh * (1 - b2**t)
        return lr * np.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v) + eps)

    reference = adam_step()

    settings = [((1,), 1.0, {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
                ((3,), 1.0, {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-8}),
                ((2, 3), 1e-6, {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
                ((4,), 3.0, {"lr": 0.5, "beta1": 0.5, "beta2": 0.9, "eps": 0.1})]
    sum_m = "`m = beta1 * m + grad`, a sum (chapter 3's heavy-ball buffer), not an average"
    sum_v = "`v = beta2 * v + grad**2`, a sum, not an average"
    mistakes = [
        (adam_step(inside=True), "ε inside the square root, `sqrt(v_hat + eps)`; Kingma & Ba "
         "and PyTorch put it outside: `sqrt(v_hat) + eps`"),
        (written(denominator=keras), "Keras's form (c), `lr_t * m / (sqrt(v) + eps)` with "
         "`lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t)`: the same as Algorithm 1 with a "
         "time-varying ε, so it differs where the gradients are near ε; this exercise asks "
         "for Algorithm 1, `lr * m_hat / (sqrt(v_hat) + eps)`"),
        (written(denominator=lambda mh, vh, eps, lr, *_: lr * mh / np.sqrt(vh)),
         "a denominator without ε: add it outside the root, `sqrt(v_hat) + eps`"),
        (written(denominator=lambda mh, vh, eps, lr, *_: lr * mh / (vh + eps)),
         "dividing by v_hat itself: divide by its square root, `sqrt(v_hat) + eps`"),
        (adam_step(correct="neither"), "Adam without bias correction: divide m by "
         "`1 - beta1**t` and v by `1 - beta2**t`"),
        (adam_step(correct="v"), "v corrected but not m: divide m by `1 - beta1**t` too"),
        (adam_step(correct="m"), "m corrected but not v: divide v by `1 - beta2**t` too"),
        (adam_step(shift=+1), "bias correction with t + 1: t is already 1 on the first step, so "
         "use `1 - beta1**t`"),
        (adam_step(shift=-1), "bias correction with t - 1, which divides by zero on the first "
         "step: use `1 - beta1**t`, with t = 1 on the first step"),
        (written(m_hat=lambda m, t, b1, b2: m / 1 - b1**t,
                 v_hat=lambda v, t, b1, b2: v / 1 - b2**t),
         "`m / 1 - beta1**t`, which Python reads as `(m / 1) - beta1**t`: write "
         "`m / (1 - beta1**t)` (and the same for v)"),
        (written(m_hat=lambda m, t, b1, b2: m / 1 - b1**t),
         "`m / 1 - beta1**t`, which Python reads as `(m / 1) - beta1**t`: write "
         "`m / (1 - beta1**t)`"),
        (written(v_hat=lambda v, t, b1, b2: v / 1 - b2**t),
         "`v / 1 - beta2**t`, which Python reads as `(v / 1) - beta2**t`: write "
         "`v / (1 - beta2**t)`"),
        (written(returned=lambda x, m, v, mh, vh: (x, mh, vh)),
         "returning m_hat and v_hat as the new state: return the raw `m` and `v`, which the "
         "next step averages further; the corrected ones are only for this step's update"),
        (written(returned=lambda x, m, v, mh, vh: (x, mh, v)),
         "returning m_hat as the new m: return the raw `m`, which the next step averages "
         "further; m_hat is only for this step's update"),
        (written(returned=lambda x, m, v, mh, vh: (x, m, vh)),
         "returning v_hat as the new v: return the raw `v`, which the next step averages "
         "further; v_hat is only for this step's update"),
        (written(m_rule=lambda m, g, b1, b2: b1 * m + g, v_rule=lambda v, g, b1, b2: b2 * v + g**2),
         f"{sum_m}; and {sum_v}: multiply the new term by `1 - beta`"),
        (written(m_rule=lambda m, g, b1, b2: b1 * m + g), f"{sum_m}: multiply grad by `1 - beta1`"),
        (written(v_rule=lambda v, g, b1, b2: b2 * v + g**2),
         f"{sum_v}: multiply grad**2 by `1 - beta2`"),
        (written(v_rule=lambda v, g, b1, b2: b1 * v + (1 - b1) * g**2),
         "beta1 in v's average: v uses beta2, `v = beta2 * v + (1 - beta2) * grad**2`"),
        (written(v_rule=lambda v, g, b1, b2: b1 * v + (1 - b1) * g**2,
                 v_hat=lambda v, t, b1, b2: v / (1 - b1**t)),
         "beta1 in v's average and its correction: v uses beta2, `v = beta2 * v + (1 - beta2) "
         "* grad**2` and `v / (1 - beta2**t)`"),
        (written(v_hat=lambda v, t, b1, b2: v / (1 - b1**t)),
         "beta1 in v's correction: divide v by `1 - beta2**t`"),
        (written(m_rule=lambda m, g, b1, b2: b2 * m + (1 - b2) * g,
                 v_rule=lambda v, g, b1, b2: b1 * v + (1 - b1) * g**2,
                 m_hat=lambda m, t, b1, b2: m / (1 - b2**t),
                 v_hat=lambda v, t, b1, b2: v / (1 - b1**t)),
         "beta1 and beta2 swapped: m, the average of grad, uses beta1; v uses beta2"),
        (written(new_state_in_x=False), "a step with the old m and v: update m and v first, "
         "then step with the new ones"),
        (adam_step(sign=-1), "a step uphill: subtract, `x - lr * m_hat / (sqrt(v_hat) + eps)`"),
        (written(v_rule=lambda v, g, b1, b2: b2 * v + (1 - b2) * g),
         "v as an average of grad, not of its square: use `grad**2`"),
    ]
    names = ("x", "m", "v")
    for order in itertools.permutations(range(3)):
        if order != (0, 1, 2):
            shown = ", ".join(f"new_{names[i]}" for i in order)
            mistakes.append((lambda *a, order=order: tuple(reference(*a)[i] for i in order),
                             f"the outputs in the order `({shown})`: return `(new_x, new_m, "
                             f"new_v)`"))
    return check_steps(fn, reference, _stepping_cases(("x", "m", "v", "grad", "t", "lr", "beta1",
                                                       "beta2", "eps"), settings, seed=5),
                       what="Adam step", outputs=names, order=("m", "v", "x"),
                       mistakes=mistakes)


STREAM_PAIRS = ((0.9, 0.999), (0.8, 0.99), (0.5, 0.9))
"""The (beta1, beta2) pairs :func:`check_adam_stream` asks a stream for, the defaults first."""

STREAM_SHARE = 0.96
"""The share of the bound a stream must reach: 6.98 alpha for the default betas."""

STREAM_MAX = 100_000
"""The longest gradient stream :func:`check_adam_stream` runs."""


def adam_step_bound(beta1, beta2):
    """The largest ``|m_hat| / sqrt(v_hat)`` any gradient stream can give (for ``beta1**2 <
    beta2``), ``(1 - beta1) / sqrt((1 - beta2) (1 - beta1**2 / beta2))``: 7.27 for the defaults.
    Chapter 5."""
    return (1 - beta1) / np.sqrt((1 - beta2) * (1 - beta1**2 / beta2))


def check_adam_stream(fn) -> Feedback:
    """Check ``fn(beta1, beta2) -> gradients``: a stream on which Adam's step comes close to its
    bound. Chapter 5.

    For each pair of :data:`STREAM_PAIRS`, ``fn`` returns a 1-D array of at most
    :data:`STREAM_MAX` finite gradients of one coordinate; Adam (``optim.adam``, ``lr = 1``,
    these betas, ``eps = 1e-8``) runs on it from 0, and its largest step must reach
    :data:`STREAM_SHARE` of :func:`adam_step_bound` (6.98, about 7, for the defaults). A stream
    that falls short is told what limits it: a gradient that never grows (a constant one gives
    exactly alpha), a growth that comes too early (v's bias correction
    not yet saturated), a lone spike (Kingma & Ba's 3.16), signs that cancel in m, or a growth
    far from beta2 / beta1 per step.
    """
    def run():
        _check_signature(fn, ["beta1", "beta2"])
        streams = []
        for beta1, beta2 in STREAM_PAIRS:
            where = f"for betas ({beta1}, {beta2})"
            streams.append(_stream(_call(fn, {"beta1": beta1, "beta2": beta2}, where), where))
        reached = _stream_steps(streams)
        for g, steps, (beta1, beta2) in zip(streams, reached, STREAM_PAIRS, strict=True):
            _judge_stream(g, steps, beta1, beta2)
        return reached

    failure, reached = _guarded(run, "stream")
    if failure is not None:
        return failure
    shown = ", ".join(f"{steps.max():.2f}α for betas {pair}"
                      for steps, pair in zip(reached, STREAM_PAIRS, strict=True))
    return Feedback(True, f"Correct: your streams drive Adam's step to {shown}, each at least "
                          f"{STREAM_SHARE:.0%} of its bound.")


def _stream(result, where) -> np.ndarray:
    """The learner's stream as a 1-D float array, or _Stop saying what is wrong with it."""
    if result is None:
        raise _Stop(f"Your function returned None {where} — did you forget the `return`?")
    try:
        g = np.asarray(result)
    except Exception:
        g = np.asarray(None)
    if g.dtype.kind not in "iuf":
        holds = f" of {g.dtype} values" if isinstance(result, np.ndarray | list | tuple) else ""
        raise _Stop(f"Your function returned {_kind(result)}{holds} {where}; return a 1-D "
                    f"numpy array of real gradients.")
    g = g.astype(np.float64)
    if g.ndim != 1 or g.size == 0:
        raise _Stop(f"Your function returned an array of shape {g.shape} {where}; return a "
                    f"1-D array of gradients, one per step (at least one).")
    if g.size > STREAM_MAX:
        raise _Stop(f"Your stream {where} has {g.size:,} gradients; the checker runs at most "
                    f"{STREAM_MAX:,}, and a few thousand are enough.")
    if not np.all(np.isfinite(g * g)):
        raise _Stop(f"Your stream {where} holds a gradient that is not finite or too large to "
                    f"square (largest |g|: {np.max(np.abs(g)):.3g}) — a gradient that grows "
                    f"for thousands of steps overflows, and only the last few dozen matter.")
    return g


def _stream_steps(streams):
    """|step| of Adam (lr = 1, eps = 1e-8, each stream's betas) at every step of each stream,
    all streams in one batched run (shorter ones padded with zeros at the end)."""
    length = max(len(g) for g in streams)
    grads = np.zeros((length, len(streams), 1))
    for r, g in enumerate(streams):
        grads[:len(g), r, 0] = g
    betas = np.array(STREAM_PAIRS[:len(streams)]).T
    rows = iter(grads)
    path = optim.minimize(optim.adam(lr=1.0, betas=(betas[0], betas[1]), eps=1e-8),
                          lambda x: next(rows), np.zeros((len(streams), 1)), length)
    steps = np.abs(np.diff(path[:, :, 0], axis=0))
    return [steps[:len(g), r] for r, g in enumerate(streams)]


def _judge_stream(g, steps, beta1, beta2):
    """_Stop with what limits the stream, unless its largest step reaches the target."""
    bound = adam_step_bound(beta1, beta2)
    target, k = STREAM_SHARE * bound, int(np.argmax(steps))
    if steps[k] >= target:
        return
    where = f"for betas ({beta1}, {beta2})"
    if steps[k] == 0:
        raise _Stop(f"Adam does not move on your stream {where}: its gradients are all zero.")
    reached = (f"Your stream {where} drives Adam's step to {steps[k]:.2f}α (at step {k + 1} of "
               f"{len(g)}), short of {target:.2f}α, {STREAM_SHARE:.0%} of the bound "
               f"{bound:.2f}α")
    raise _Stop(reached + _stream_advice(g, k, beta1, beta2, target) + ".")


def _stream_advice(g, k, beta1, beta2, target) -> str:
    """Why a stream falls short: the first of a few diagnoses that applies, or nothing."""
    t = k + 1
    size, sign = abs(g[k]), np.sign(g[k])
    steady = g[max(0, k - 19):k + 1]
    if len(steady) > 1 and np.allclose(steady, g[k], rtol=1e-6, atol=0):
        return (f" — a constant gradient gives a step of exactly α, whatever its size: let it "
                f"grow by beta2/beta1 = {beta2 / beta1:.3f} per step after a quiet spell")
    cap = np.sqrt(1 - beta2**t) / (1 - beta1**t) * adam_step_bound(beta1, beta2)
    if cap < target:
        return (f" — at step {t} v's bias correction still divides by 1 - beta2^t = "
                f"{1 - beta2**t:.3f}, which alone caps the step at {cap:.2f}α: the growth must "
                f"come after many more than 1/(1 - beta2) = {1 / (1 - beta2):.0f} steps (the "
                f"gradients before it may be zero)")
    near = g[max(0, k - 10):k + 11]
    if np.any((np.sign(near) == -sign) & (np.abs(near) > 1e-3 * size)):
        return " — its sign changes around that step, and m averages the changes away"
    run = 1  # the same-signed, non-negligible gradients that end at step k
    while run < 20 and k - run >= 0 and np.sign(g[k - run]) == sign \
            and abs(g[k - run]) > 1e-3 * size:
        run += 1
    if run == 1:
        return (f" — a lone spike after quiet steps gives at most (1 - beta1)/sqrt(1 - beta2) "
                f"= {(1 - beta1) / np.sqrt(1 - beta2):.2f}α (Kingma & Ba's worst case): let the "
                f"gradient grow over several steps, so that m catches up")
    growth = (size / abs(g[k - run + 1])) ** (1 / (run - 1))
    if not 0.8 < np.log(growth) / np.log(beta2 / beta1) < 1.25:
        change = "grows" if growth > 1 else "shrinks"
        return (f" — in the {run} steps up to it the gradient {change} by a factor {growth:.3g} "
                f"per step; the two averages balance best (the equality case of Cauchy–"
                f"Schwarz) at beta2/beta1 = {beta2 / beta1:.3f}")
    r = beta1**2 / beta2
    if run < 20:
        return (f" — the growth lasts only {run} steps, and the weights of older gradients "
                f"fall only like (beta1^2/beta2)^k = {r:.3g}^k: let it grow for a few dozen "
                f"steps")
    return ""


def check_bias_corrected_ema(fn) -> Feedback:
    """Check ``fn(xs, beta) -> [m_1 / (1 - beta), ..., m_T / (1 - beta**T)]``. Chapter 6.

    ``m_t = beta * m_{t-1} + (1 - beta) * xs[t-1]`` from ``m_0 = 0``, divided by
    ``1 - beta**t`` (t = 1, ..., T): the bias-corrected EMA, one value per t.
    """
    def reference(xs, beta):
        m, corrected = 0.0, []
        for t, x in enumerate(xs, start=1):
            m = optim.ema(m, x, beta)
            corrected.append(m / optim.bias_correction(beta, t))
        return np.array(corrected)

    def ema_with(shift=0, correct=True, new=lambda beta, x: (1 - beta) * x, keep=lambda beta: beta,
                 divide=lambda a, beta, t: a / (1 - beta**t), in_place=False):
        """The bias-corrected EMA as a learner writes it, with any of its parts a slip."""
        def run(xs, beta):
            a, out = 0.0, []
            for t, x in enumerate(xs, start=1):
                a = keep(beta) * a + new(beta, x)
                corrected = divide(a, beta, t + shift) if correct else a
                if in_place:
                    a = corrected
                out.append(corrected)
            return np.array(out)
        return run

    rng = np.random.default_rng(6)
    cases = [Case({"xs": rng.standard_normal(10), "beta": 0.9}),
             Case({"xs": np.full(8, 3.0), "beta": 0.99}),  # constant input: m_hat_t = 3 exactly
             Case({"xs": 1.0 + rng.standard_normal(30), "beta": 0.999}),
             Case({"xs": rng.standard_normal(1), "beta": 0.5}),
             Case({"xs": np.linspace(-1.0, 2.0, 12), "beta": 0.0})]
    mistakes = [
        (ema_with(correct=False), "the plain EMA m_t: divide by `1 - beta**t`"),
        (ema_with(shift=+1), "a correction with t + 1: the first value is divided by `1 - beta`"),
        (ema_with(shift=-1), "a correction with t - 1 (counting t from 0): t = 1 for the "
         "first value"),
        (ema_with(in_place=True), "dividing the running average itself: the next step must "
         "average the raw m_t, so divide a copy (`out[t - 1] = m / (1 - beta**t)`)"),
        (ema_with(divide=lambda a, beta, t: a / 1 - beta**t), "`m / 1 - beta**t`, which Python "
         "reads as `(m / 1) - beta**t`: write `m / (1 - beta**t)`"),
        (ema_with(new=lambda beta, x: x), "`m = beta * m + x`, a sum, not an average: multiply "
         "the new input by `1 - beta`"),
        (ema_with(new=lambda beta, x: beta * x, keep=lambda beta: 1 - beta),
         "beta and 1 - beta swapped: keep `beta * m` and add `(1 - beta) * x`"),
        (ema_with(new=lambda beta, x: beta * x, keep=lambda beta: 1 - beta,
                  divide=lambda a, beta, t: a / (1 - (1 - beta)**t)),
         "beta and 1 - beta swapped: keep `beta * m` and add `(1 - beta) * x`"),
        (lambda xs, beta: ema_with(correct=False)(xs, beta) / (1 - beta**len(xs)),
         "one correction for every value, `1 - beta**T` with T = len(xs): each m_t has its "
         "own t"),
    ]
    return check_steps(fn, reference, cases, what="bias-corrected EMA", outputs=("m_hat",),
                       steps=1, mistakes=mistakes)


def check_masked_ema(fn) -> Feedback:
    """Check ``fn(xs, observed, beta) -> a_hat``: the bias-corrected EMA of an input that is only
    observed at some steps. Chapter 6.

    At every step the average decays, and an observed input joins it::

        a_t = beta * a_{t-1} + (1 - beta) * xs[t-1]   if observed[t-1]
        a_t = beta * a_{t-1}                          otherwise        (a_0 = 0)

    and ``a_hat_t = a_t / w_t``, where ``w_t`` is the total weight the observed inputs have in
    ``a_t``: the same EMA run on ``observed`` itself (``w_t = beta * w_{t-1} + (1 - beta) *
    observed``), so that a_hat_t is unbiased when the observed inputs have a constant mean.
    ``observed[0]`` is True in every case; ``xs`` holds meaningless values where an input is
    not observed.
    """
    def masked(xs, observed, beta, decay_always=True, weight="ema", use_mask=True):
        """The reference, and the slips that are a change of one of its rules."""
        a = w = 0.0
        out, seen = [], 0
        for t, (x, o) in enumerate(zip(xs, observed, strict=True), start=1):
            o = bool(o) or not use_mask
            seen += o
            if o or decay_always:
                a = beta * a + (1 - beta) * x if o else beta * a
                w = beta * w + (1 - beta) if o else beta * w
            out.append(a / {"ema": w, "steps": 1 - beta**t, "count": 1 - beta**seen,
                            "none": 1.0}[weight])
        return np.array(out)

    def mistake(**how):
        return lambda xs, observed, beta: masked(xs, observed, beta, **how)

    def only_when_observed(xs, observed, beta):  # nan where nothing was measured
        return np.where(np.asarray(observed, dtype=bool), masked(xs, observed, beta), np.nan)

    def plain_mean(xs, observed, beta):  # every observed input with the same weight
        seen = np.asarray(observed, dtype=bool)
        return np.cumsum(np.where(seen, xs, 0.0)) / np.cumsum(seen)

    rng = np.random.default_rng(13)
    cases = []
    for T, share, beta in [(12, 0.5, 0.9), (40, 0.3, 0.95), (25, 0.6, 0.5), (60, 0.2, 0.99),
                           (8, 1.0, 0.9)]:
        observed = rng.random(T) < share
        observed[0] = True
        xs = np.where(observed, 2.0 + rng.standard_normal(T), rng.uniform(-50, 50, T))
        cases.append(Case({"xs": xs, "observed": observed, "beta": beta}))
    mistakes = [
        (mistake(use_mask=False), "the bias-corrected EMA of every input, observed or not: "
         "an input that was not observed must not enter the average"),
        (mistake(weight="steps"), "Adam's correction `1 - beta**t`, which assumes an input "
         "joined at every step; divide by the weight the *observed* inputs have, itself an EMA "
         "of `observed` started at 0"),
        (mistake(weight="count"), "`1 - beta**n` with n the number of inputs observed so far: "
         "an input's weight depends on its age in steps, not on how many came after it; "
         "divide by the EMA of `observed` started at 0"),
        (mistake(decay_always=False), "an average that stands still while nothing is "
         "observed: here it decays at every step (an input observed k steps ago has weight "
         "(1 - beta) beta^k), and so does the weight you divide by"),
        (mistake(weight="none"), "the raw average a_t: divide it by the weight the observed "
         "inputs have in it"),
        (only_when_observed, "no estimate (nan) at the steps without a measurement: return "
         "one at every step; there a_t and the weight you divide by both shrink by beta, so "
         "the estimate stays where it was"),
        (plain_mean, "the plain mean of the inputs observed so far, which weights them all "
         "alike: an EMA gives an input observed k steps ago the weight (1 - beta) beta^k, so "
         "divide a_t by the sum of those weights, the EMA of `observed` started at 0"),
    ]
    return check_steps(fn, masked, cases, what="masked bias-corrected EMA", outputs=("a_hat",),
                       steps=1, mistakes=mistakes)


# --- Chapter 7 ---------------------------------------------------------------------------------

def check_warmup_cosine(fn) -> Feedback:
    """Check ``fn(t, lr, warmup, total) -> eta_t``: the step size of step ``t = 1, ..., total``
    under a linear warm-up followed by a cosine decay to zero. Chapter 7.

    ::

        eta_t = lr * t / warmup                                                 (t <= warmup)
        eta_t = lr * (1 + cos(pi * (t - warmup) / (total - warmup))) / 2        (t > warmup)

    so the warm-up reaches ``lr`` on step ``warmup`` and the decay reaches 0 on step ``total``.
    ``0 <= warmup < total``: ``warmup = 0`` means no warm-up, ``warmup = total - 1`` leaves one
    step of decay (``warmup = total`` would leave no step to decay on, and is not asked for).
    ``lr`` may be a number or an array of step sizes, one per run (then ``eta_t`` has its
    shape), as ``nn.train``'s ``lr_schedule`` needs.
    """
    def reference(t, lr, warmup, total):
        if t <= warmup:
            return lr * (t / warmup)
        return lr * 0.5 * (1 + np.cos(np.pi * (t - warmup) / (total - warmup)))

    def variant(ramp=lambda t, w: t / w, decay=None):
        def schedule(t, lr, warmup, total):
            if t <= warmup:
                return lr * ramp(t, warmup)
            return lr * decay(t, warmup, total)
        return schedule

    def cosine(t, warmup, total):
        return 0.5 * (1 + np.cos(np.pi * (t - warmup) / (total - warmup)))

    settings = [(0.1, 10, 50), (3e-3, 100, 340), (np.array([0.01, 0.03, 0.1]), 5, 20),
                (1.0, 0, 12), (0.5, 7, 8)]
    mistakes = [
        (variant(ramp=lambda t, w: (t - 1) / w,
                 decay=lambda t, w, n: 0.5 * (1 + np.cos(np.pi * (t - 1 - w) / (n - w)))),
         "the same schedule with steps counted from 0 (t - 1 in place of t), as Hugging Face's "
         "get_cosine_schedule_with_warmup counts them, whose first step has step size 0: here "
         "t = 1 on the first step, so eta_1 = lr / warmup and eta_total = 0"),
        (variant(ramp=lambda t, w: (t - 1) / w, decay=cosine),
         "a warm-up that starts from 0 on step 1: that step is wasted; the warm-up is "
         "lr * t / warmup with t = 1 on the first step, and reaches lr on step `warmup`"),
        (variant(ramp=lambda t, w: t / (w + 1), decay=cosine),
         "a warm-up that reaches lr one step late: lr * t / warmup is lr on step `warmup`"),
        (variant(decay=lambda t, w, n: 1 + np.cos(np.pi * (t - w) / (n - w))),
         "a cosine without the factor 1/2: the decay must start at lr, not at 2 lr"),
        (variant(decay=lambda t, w, n: 0.5 * (1 + np.cos(np.pi * t / n))),
         "a cosine measured from t = 0 instead of from the end of the warm-up: the step size "
         "drops at once when the warm-up ends; use (t - warmup) / (total - warmup)"),
        (variant(decay=lambda t, w, n: 0.5 * (1 + np.cos(np.pi * (t - w - 1) / (n - w)))),
         "a cosine one step late: on step `total` the step size should be exactly 0"),
        (variant(decay=lambda t, w, n: 0.5 * (1 + np.cos(2 * np.pi * (t - w) / (n - w)))),
         "a full period of the cosine (2 pi), which climbs back to lr at the end: half a "
         "period, pi, takes lr down to 0"),
        (variant(decay=lambda t, w, n: 1 - (t - w) / (n - w)),
         "a linear decay: the exercise asks for (1 + cos(pi * progress)) / 2"),
        (variant(ramp=lambda t, w: 1.0, decay=cosine),
         "no warm-up: during the first `warmup` steps the step size grows as lr * t / warmup"),
    ]
    def run():
        _check_signature(fn, ["t", "lr", "warmup", "total"])
        for lr, warmup, total in settings:
            _check_schedule(fn, reference, lr, warmup, total, mistakes)

    failure, _ = _guarded(run, "schedule")
    if failure is not None:
        return failure
    calls = sum(total for _, _, total in settings)
    return Feedback(True, f"Correct: your warm-up and cosine schedule matches the reference at "
                          f"all {calls} steps of {len(settings)} schedules, one with an array "
                          f"of step sizes, one without warm-up and one with a single step of "
                          f"decay.")


def _check_schedule(fn, reference, lr, warmup, total, mistakes):
    """A whole schedule, t = 1..total: every value against the reference; when one is wrong, the
    hint of the known mistake that gives the learner's values at every step of it."""
    shown = ("[" + ", ".join(f"{value:g}" for value in lr) + "]" if isinstance(lr, np.ndarray)
             else f"{lr:g}")
    setting = f"(lr = {shown}, warmup = {warmup}, total = {total})"
    steps = range(1, total + 1)
    got = np.array([_schedule_value(fn, reference, t, lr, warmup, total, f"at t = {t} {setting}")
                    for t in steps])
    expected = np.array([reference(t, lr, warmup, total) for t in steps], dtype=np.float64)
    wrong = ~np.isclose(got, expected, rtol=1e-9, atol=1e-15)
    if not wrong.any():
        return
    k, *rest = _first(wrong)
    e, g = _pair(expected[(k, *rest)], got[(k, *rest)])
    hint = ""
    for mistake, text in mistakes:
        try:
            theirs = np.array([mistake(t, lr, warmup, total) for t in steps], dtype=np.float64)
        except Exception:  # a mistake that does not apply gives no hint
            continue
        if theirs.shape == got.shape and np.allclose(theirs, got, rtol=1e-9, atol=1e-15):
            hint = f" — it matches {text}"
            break
    raise _Stop(f"Your step size is wrong at t = {k + 1} {setting}: expected {e}, got {g}"
                f"{hint}.")


def _schedule_value(fn, reference, t, lr, warmup, total, where):
    """One call of the learner's schedule, as a float array of lr's shape (or _Stop)."""
    try:
        got = _call(fn, {"t": t, "lr": lr, "warmup": warmup, "total": total}, where)
    except _Stop as stop:
        if warmup == 0 and "ZeroDivisionError" in stop.feedback.message:
            raise _Stop(stop.feedback.message.rstrip(".") + " — with warmup = 0 there is no "
                        "warm-up: go straight to the cosine part (np.where computes both "
                        "branches at every step, so test t in an `if` instead).") from None
        if "ZeroDivisionError" in stop.feedback.message:
            raise _Stop(stop.feedback.message.rstrip(".") + " — the warm-up divides by warmup "
                        "and the decay by total - warmup, which is at least 1 here: compute "
                        "each only on its own steps, t <= warmup and t > warmup.") from None
        if isinstance(lr, np.ndarray) and "truth value" in stop.feedback.message:
            raise _Stop(stop.feedback.message.rstrip(".") + " — lr can be an array of step "
                        "sizes, one per run: compute with arithmetic and np.cos, and test "
                        "only t, not lr, in an `if`.") from None
        raise
    if got is None:
        raise _Stop(f"Your function returned None {where} — did you forget the `return`?")
    if isinstance(got, bool) or not isinstance(got, numbers.Real | np.ndarray):
        raise _Stop(f"Your function returned {_kind(got)} {where}; return a number (or, for an "
                    f"array lr, an array of its shape).")
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(reference(t, lr, warmup, total), dtype=np.float64)
    if got.shape != expected.shape:
        raise _Stop(f"Your function returned shape {got.shape} {where}, but expected "
                    f"{expected.shape}, the shape of lr.")
    if not np.all(np.isfinite(got)):
        raise _Stop(f"Your step size is {got.ravel()[0]} {where}, where the reference gives "
                    f"{_num(expected.ravel()[0])} — look for a division by zero.")
    return got


# --- Chapter 8 ---------------------------------------------------------------------------------

def check_keras_rmsprop_port(fn) -> Feedback:
    """Check ``fn(learning_rate, rho, momentum, epsilon) -> optimizer``: an ``optim`` optimizer
    that takes the same steps as Keras's ``RMSprop(learning_rate, rho, momentum, epsilon)``.
    Chapter 8.

    Keras 3 (keras/src/optimizers/rmsprop.py) divides by ``sqrt(v + epsilon)``, ε inside the
    root, and its ``rho`` is the decay of v, torch's ``alpha``; so the port is
    ``optim.rmsprop(lr=learning_rate, alpha=rho, eps=0.0, eps_root=epsilon, momentum=momentum)``
    (Keras keeps ``lr`` inside its momentum buffer, torch outside: the same steps while the
    step size is constant). Each case feeds 30 seeded gradients of about ``sqrt(epsilon)``,
    where the place of ε changes every step, and compares the iterates to 1e-9 relative.
    """
    def port(lr, alpha, eps, eps_root, momentum, centered=False):
        return optim.rmsprop(lr=lr, alpha=alpha, eps=eps, eps_root=eps_root, momentum=momentum,
                             centered=centered)

    def right(learning_rate, rho, momentum, epsilon):
        return port(learning_rate, rho, 0.0, epsilon, momentum)

    mistakes = [
        (lambda lr, rho, mu, e: port(lr, rho, e, 0.0, mu), "ε outside the root (`eps=epsilon`),"
         " torch's place: Keras adds it inside, so use `eps=0.0, eps_root=epsilon`"),
        (lambda lr, rho, mu, e: port(lr, rho, 1e-8, e, mu), "ε inside the root, but also "
         "torch's default `eps=1e-8` outside it: set `eps=0.0` too"),
        (lambda lr, rho, mu, e: port(lr, rho, e, e, mu), "ε both inside and outside the root: "
         "set torch's `eps=0.0`, and `eps_root=epsilon`"),
        (lambda lr, rho, mu, e: port(lr, 1 - rho, 0.0, e, mu), "`alpha = 1 - rho`: torch's "
         "`alpha` is the decay itself, the weight of the old average, exactly Keras's `rho`"),
        (lambda lr, rho, mu, e: port(lr, 0.99, 0.0, e, mu), "torch's default `alpha=0.99`: "
         "pass Keras's `rho` as `alpha` (Keras's default is 0.9)"),
        (lambda lr, rho, mu, e: port(lr, rho, 0.0, e, 0.0), "no momentum: pass Keras's "
         "`momentum` on to `optim.rmsprop`, which has the same heavy-ball form"),
        (lambda lr, rho, mu, e: port(1e-2, rho, 0.0, e, mu), "torch's default step size "
         "0.01: pass `lr=learning_rate`"),
        (lambda lr, rho, mu, e: port(lr, rho, 0.0, e, mu, centered=True), "the centered "
         "RMSProp: Keras's default `centered=False` is torch's"),
    ]
    cases = [(0.001, 0.9, 0.0, 1e-7), (0.01, 0.9, 0.9, 1e-7), (0.003, 0.95, 0.5, 1e-6),
             (0.1, 0.8, 0.0, 1e-4)]
    rng = np.random.default_rng(12)
    streams = [np.sqrt(e) * (rng.standard_normal((30, 3)) + 0.3) for *_, e in cases]

    def trajectory(opt, grads, where):
        x = np.array([1.0, -0.5, 0.25])
        with _time_limit(TIME_LIMIT):
            state, out = opt.init(x), [x]
            for g in grads:
                x, state = opt.step(x, g, state)
                out.append(np.asarray(x, dtype=np.float64))
        if any(np.shape(p) != (3,) for p in out):
            raise _Stop(f"Your optimizer returned params of another shape than it was given "
                        f"{where}.")
        return np.array(out)

    def run():
        _check_signature(fn, ["learning_rate", "rho", "momentum", "epsilon"])
        for case, grads in zip(cases, streams, strict=True):
            args = dict(zip(("learning_rate", "rho", "momentum", "epsilon"), case,
                            strict=True))
            where = f"for RMSprop({', '.join(f'{k}={v:g}' for k, v in args.items())})"
            opt = _call(fn, args, where)
            if opt is None:
                raise _Stop(f"Your function returned None {where} — did you forget the "
                            f"`return`?")
            if not (callable(getattr(opt, "init", None))
                    and callable(getattr(opt, "step", None))):
                raise _Stop(f"Your function returned {_kind(opt)} {where}; it should return "
                            f"an optimizer, such as `optim.rmsprop(...)`.")
            try:
                got = trajectory(opt, grads, where)
            except (_Stop, _TimedOut):
                raise
            except Exception as error:
                raise _Stop(f"Your optimizer raised {_describe(error)} when it stepped "
                            f"{where}.") from None
            expected = trajectory(right(*case), grads, where)
            if np.allclose(got, expected, rtol=1e-9, atol=1e-15):
                continue
            step = int(np.argmax(~np.all(np.isclose(got, expected, rtol=1e-9, atol=1e-15),
                                         axis=1)))
            hint = next((h for m, h in mistakes
                         if np.allclose(trajectory(m(*case), grads, where), got,
                                        rtol=1e-9, atol=1e-15)), "")
            e, g = _pair(expected[step, 0], got[step, 0])
            raise _Stop(f"Your optimizer leaves Keras's path at step {step} {where}: "
                        f"expected x[0] = {e}, got {g}"
                        + (f" — it matches {hint}." if hint else
                           " — compare each argument with the table of this chapter."))

    failure, _ = _guarded(run, "port", when="while stepping")
    if failure is not None:
        return failure
    return Feedback(True, f"Correct: your optimizer takes Keras's RMSprop steps in all "
                          f"{len(cases)} configurations, 30 steps each.")
