"""Chapter 6's checkers: the bias-corrected EMA's recognised slips, and the bias-corrected EMA
of an input observed only at some steps.

Right answers are written here from the formulas (a loop, and independently a weighted sum);
the masked average's unbiasedness, the reason for its correction, is checked by simulation.
Every slip the checkers name is planted here and must get its own message.
"""

import numpy as np
import pytest

from adam_course.exercises import Feedback, check_bias_corrected_ema, check_masked_ema

# --- the bias-corrected EMA --------------------------------------------------------------------


def corrected_ema(xs, beta, *, new=None, keep=None, divide=None, in_place=False):
    a, out = 0.0, []
    for t, x in enumerate(xs, start=1):
        a = (keep(beta) if keep else beta) * a + (new(beta, x) if new else (1 - beta) * x)
        c = divide(a, beta, t) if divide else a / (1 - beta**t)
        if in_place:
            a = c
        out.append(c)
    return np.array(out)


def test_the_right_average_passes_in_two_forms():
    assert check_bias_corrected_ema(corrected_ema)

    def weighted_sum(xs, beta):  # the unrolled sum divided by the sum of its weights
        t = np.arange(1, len(xs) + 1)
        age = t[:, None] - t[None, :]  # negative above the diagonal: no weight there
        w = np.where(age >= 0, (1 - beta) * beta ** np.maximum(age, 0), 0.0)
        return (w @ xs) / w.sum(axis=1)

    assert check_bias_corrected_ema(weighted_sum)


EMA_SLIPS = [
    (lambda xs, b: corrected_ema(xs, b, in_place=True), ["dividing the running average itself"]),
    (lambda xs, b: corrected_ema(xs, b, divide=lambda a, b, t: a / 1 - b**t),
     ["`(m / 1) - beta**t`"]),
    (lambda xs, b: corrected_ema(xs, b, new=lambda b, x: x), ["a sum, not an average"]),
    (lambda xs, b: corrected_ema(xs, b, new=lambda b, x: b * x, keep=lambda b: 1 - b),
     ["beta and 1 - beta swapped"]),
    (lambda xs, b: corrected_ema(xs, b, divide=lambda a, b, t: a / (1 - b ** len(xs))),
     ["one correction for every value"]),
    (lambda xs, b: corrected_ema(xs, b, divide=lambda a, b, t: a), ["the plain EMA"]),
    (lambda xs, b: corrected_ema(xs, b, divide=lambda a, b, t: a / (1 - b ** (t - 1))),
     ["`m_hat[0]` is inf", "counting t from 0"]),
    (lambda xs, b: corrected_ema(xs.astype(np.float32), np.float32(b)),
     ["returns float32 numbers"]),
]


@pytest.mark.parametrize("fn, fragments", EMA_SLIPS, ids=range(len(EMA_SLIPS)))
def test_each_ema_slip_gets_its_message(fn, fragments):
    feedback = check_bias_corrected_ema(fn)
    assert not feedback.ok
    for fragment in fragments:
        assert fragment in feedback.message, feedback.message
    assert feedback.message.endswith(".") and "\n" not in feedback.message


# --- the masked average --------------------------------------------------------------------------


def masked_ema(xs, observed, beta):
    a = w = 0.0
    out = []
    for x, o in zip(xs, observed, strict=True):
        a = beta * a + (1 - beta) * (x if o else 0.0)
        w = beta * w + (1 - beta) * o
        out.append(a / w)
    return np.array(out)


def test_the_right_masked_average_passes_in_two_forms():
    assert check_masked_ema(masked_ema)

    def weighted_mean(xs, observed, beta):  # each estimate: the observed inputs, weights by age
        out = []
        for t in range(1, len(xs) + 1):
            age = t - 1 - np.flatnonzero(observed[:t])
            out.append(np.average(xs[:t][observed[:t]], weights=beta**age))
        return np.array(out)

    assert check_masked_ema(weighted_mean)


def test_the_masked_average_is_unbiased_and_adams_correction_is_not():
    """What the correction is for, by simulation: inputs with mean 2 observed 30% of the time."""
    rng = np.random.default_rng(0)
    T, runs, beta = 40, 20_000, 0.9
    observed = rng.random(T) < 0.3
    observed[0] = True
    xs = 2.0 + rng.standard_normal((runs, T))
    a = np.zeros(runs)
    w = 0.0
    for t in range(T):
        a = beta * a + (1 - beta) * xs[:, t] * observed[t]
        w = beta * w + (1 - beta) * observed[t]
    tolerance = 5 * (a / w).std() / np.sqrt(runs)
    assert abs((a / w).mean() - 2.0) < tolerance
    adams = a / (1 - beta**T)  # biased towards 0 by the share of weight on unobserved steps
    assert (adams.mean() - 2.0) < -50 * tolerance
    assert np.isclose(masked_ema(xs[0], observed, beta)[-1], (a / w)[0])


MASKED_SLIPS = [
    (lambda xs, o, b: masked_ema(xs, np.ones_like(o), b), ["observed or not"]),
    (lambda xs, o, b: masked_ema(xs, o, b) * [
        (b * 0 + masked_weight(o, b, t)) / (1 - b**t) for t in range(1, len(o) + 1)],
     ["Adam's correction `1 - beta**t`"]),
    (lambda xs, o, b: masked_ema(xs, o, b) * [
        masked_weight(o, b, t) / (1 - b ** o[:t].sum()) for t in range(1, len(o) + 1)],
     ["the number of inputs observed so far"]),
    (lambda xs, o, b: own_clock(xs, o, b), ["stands still while nothing is observed"]),
    (lambda xs, o, b: masked_ema(xs, o, b) * [masked_weight(o, b, t) for t in range(1, len(o) + 1)],
     ["the raw average"]),
    (lambda xs, o, b: masked_ema(xs, o, b)[o], ["returned shape"]),
    (lambda xs, o, b: masked_ema(xs.astype(np.float32), o, np.float32(b)), ["float32"]),
]


def masked_weight(observed, beta, t):
    """The weight the observed inputs have after t steps: sum of (1 - beta) beta^age."""
    age = t - 1 - np.flatnonzero(observed[:t])
    return float(np.sum((1 - beta) * beta**age))


def own_clock(xs, observed, beta):
    """The slip: an EMA that only steps when an input is observed (the usual correction)."""
    a, n, out = 0.0, 0, []
    for x, o in zip(xs, observed, strict=True):
        if o:
            n += 1
            a = beta * a + (1 - beta) * x
        out.append(a / (1 - beta**n))
    return np.array(out)


@pytest.mark.parametrize("fn, fragments", MASKED_SLIPS, ids=range(len(MASKED_SLIPS)))
def test_each_masked_slip_gets_its_message(fn, fragments):
    feedback = check_masked_ema(fn)
    assert not feedback.ok
    for fragment in fragments:
        assert fragment in feedback.message, feedback.message
    assert feedback.message.endswith(".") and "\n" not in feedback.message


@pytest.mark.parametrize("checker", [check_bias_corrected_ema, check_masked_ema])
def test_no_learner_function_makes_the_checkers_raise(checker):
    for fn in [lambda *a: None, lambda *a: "text", lambda *a: (np.zeros(7),) * 2, lambda: 0,
               lambda *a: [][0], lambda *a: a[0] + 1j, lambda *a: a, 3, None,
               lambda *a: np.full(len(a[0]), np.nan)]:
        feedback = checker(fn)
        assert isinstance(feedback, Feedback) and not feedback.ok
        assert feedback.message and "\n" not in feedback.message
