"""Chapter 6's checkers: a stream that drives Adam's step to its bound, the bias-corrected EMA,
and the bias-corrected EMA of an input observed only at some steps."""

from __future__ import annotations

import numpy as np

from adam_course import optim
from adam_course.exercises.ch5_adam import adam_step_bound
from adam_course.exercises.engine import (
    Case,
    Feedback,
    Stop,
    call,
    check_signature,
    check_steps,
    guarded,
    kind,
    returned_none,
)

__all__ = ["check_adam_stream", "check_bias_corrected_ema", "check_masked_ema", "STREAM_PAIRS",
           "STREAM_SHARE", "STREAM_MAX"]


STREAM_PAIRS = ((0.9, 0.999), (0.8, 0.99), (0.5, 0.9))
"""The (beta1, beta2) pairs :func:`check_adam_stream` asks a stream for, the defaults first."""

STREAM_SHARE = 0.96
"""The share of the bound a stream must reach: 6.98 alpha for the default betas."""

STREAM_MAX = 100_000
"""The longest gradient stream :func:`check_adam_stream` runs."""


def check_adam_stream(fn) -> Feedback:
    """Check ``fn(beta1, beta2) -> gradients``: a stream on which Adam's step comes close to its
    bound. Chapter 6 (which derives the bound).

    For each pair of :data:`STREAM_PAIRS`, ``fn`` returns a 1-D array of at most
    :data:`STREAM_MAX` finite gradients of one coordinate (a list will do); Adam
    (``optim.adam``, ``lr = 1``, these betas, ``eps = 1e-8``) runs on it from 0, and its
    largest step must reach
    :data:`STREAM_SHARE` of :func:`adam_step_bound` (6.98, about 7, for the defaults). A stream
    that falls short is told what limits it: gradients so small that ε outweighs them, a
    gradient that never grows (a constant one gives exactly alpha; after a quiet spell, a step
    that sinks back towards alpha), a growth that comes too early (v's bias correction not yet
    saturated), a lone spike (Kingma & Ba's 3.16), signs that cancel in m, or a growth far from
    beta2 / beta1 per step.
    """
    def run():
        check_signature(fn, ["beta1", "beta2"])
        streams = []
        for beta1, beta2 in STREAM_PAIRS:
            where = f"for betas ({beta1}, {beta2})"
            streams.append(_stream(call(fn, {"beta1": beta1, "beta2": beta2}, where), where))
        reached = _stream_steps(streams, STREAM_PAIRS)
        for g, steps, (beta1, beta2) in zip(streams, reached, STREAM_PAIRS, strict=True):
            _judge_stream(g, steps, beta1, beta2)
        return reached

    failure, reached = guarded(run, "stream")
    if failure is not None:
        return failure
    shown = ", ".join(f"{steps.max():.2f}α for betas {pair}"
                      for steps, pair in zip(reached, STREAM_PAIRS, strict=True))
    return Feedback(True, f"Correct: your streams drive Adam's step to {shown}, each at least "
                          f"{STREAM_SHARE:.0%} of its bound.")


def _stream(result, where) -> np.ndarray:
    """The learner's stream as a 1-D float array, or Stop saying what is wrong with it."""
    if result is None:
        raise Stop(returned_none(where))
    try:
        g = np.asarray(result)
    except Exception:
        g = np.asarray(None)
    if g.dtype.kind not in "iuf":
        holds = f" of {g.dtype} values" if isinstance(result, np.ndarray | list | tuple) else ""
        raise Stop(f"Your function returned {kind(result)}{holds} {where}; return a 1-D "
                   f"numpy array of real gradients.")
    g = g.astype(np.float64)
    if g.ndim != 1 or g.size == 0:
        raise Stop(f"Your function returned an array of shape {g.shape} {where}; return a "
                   f"1-D array of gradients, one per step (at least one).")
    if g.size > STREAM_MAX:
        raise Stop(f"Your stream {where} has {g.size:,} gradients; the checker runs at most "
                   f"{STREAM_MAX:,}, and a few thousand are enough.")
    if not np.all(np.isfinite(g * g)):
        raise Stop(f"Your stream {where} holds a gradient that is not finite or too large to "
                   f"square (largest |g|: {np.max(np.abs(g)):.3g}) — a gradient that grows "
                   f"for thousands of steps overflows, and only the last few dozen matter.")
    return g


def _stream_steps(streams, pairs):
    """|step| of Adam (lr = 1, eps = 1e-8, the betas of ``pairs``) at every step of each
    stream, all streams in one batched run (shorter ones padded with zeros at the end)."""
    length = max(len(g) for g in streams)
    grads = np.zeros((length, len(streams), 1))
    for r, g in enumerate(streams):
        grads[:len(g), r, 0] = g
    betas = np.array(pairs).T
    rows = iter(grads)
    path = optim.minimize(optim.adam(lr=1.0, betas=(betas[0], betas[1]), eps=1e-8),
                          lambda x: next(rows), np.zeros((len(streams), 1)), length)
    steps = np.abs(np.diff(path[:, :, 0], axis=0))
    return [steps[:len(g), r] for r, g in enumerate(streams)]


def _judge_stream(g, steps, beta1, beta2):
    """Stop with what limits the stream, unless its largest step reaches the target."""
    bound = adam_step_bound(beta1, beta2)
    target, k = STREAM_SHARE * bound, int(np.argmax(steps))
    if steps[k] >= target:
        return
    where = f"for betas ({beta1}, {beta2})"
    if steps[k] == 0:
        raise Stop(f"Adam does not move on your stream {where}: its gradients are all zero.")
    reached = (f"Your stream {where} drives Adam's step to {steps[k]:.2f}α (at step {k + 1} of "
               f"{len(g)}), short of {target:.2f}α, {STREAM_SHARE:.0%} of the bound "
               f"{bound:.2f}α")
    raise Stop(reached + _stream_advice(g, k, steps[k], beta1, beta2, target) + ".")


def _stream_advice(g, k, reached, beta1, beta2, target) -> str:
    """Why a stream falls short: the first of a few diagnoses that applies, or nothing."""
    t = k + 1
    largest = float(np.max(np.abs(g)))
    if largest < 1e-3:  # maybe below eps: the same stream, scaled up, tells
        rescaled = _stream_steps([g / largest], [(beta1, beta2)])[0].max()
        if rescaled > 1.01 * reached:
            return (f" — its gradients are at most {largest:.2g}, so ε = 1e-8 outweighs "
                    f"sqrt(v_hat) in the denominator sqrt(v_hat) + ε: Adam's step depends only "
                    f"on the ratios of the gradients while they are large against ε, and the "
                    f"same stream divided by {largest:.2g} drives it to {rescaled:.2f}α")
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
    if abs(np.log(growth)) < 0.01:
        return (f" — the gradient is constant in the {run} steps up to it: after a quiet spell "
                f"a constant gradient gives a step that peaks and then sinks back towards α as "
                f"v catches up with m; let it grow by beta2/beta1 = {beta2 / beta1:.3f} per "
                f"step instead")
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

    def from_first(xs, beta):  # m_1 = x_1, then the usual update, no correction
        m = xs[0]
        out = [m]
        for x in xs[1:]:
            m = beta * m + (1 - beta) * x
            out.append(m)
        return np.array(out)

    zero_beta = ("beta = 0 here, where the average is just the latest input: a power such as "
                 "beta**(-t) is infinite, so write the weights as beta**(t - i), or use the "
                 "recursion")
    rng = np.random.default_rng(6)
    cases = [Case({"xs": rng.standard_normal(10), "beta": 0.9}, about="10 inputs, beta = 0.9"),
             Case({"xs": np.full(8, 3.0), "beta": 0.99},  # constant input: m_hat_t = 3 exactly
                  about="8 inputs, all 3.0, beta = 0.99"),
             Case({"xs": 1.0 + rng.standard_normal(30), "beta": 0.999},
                  about="30 inputs, beta = 0.999"),
             Case({"xs": rng.standard_normal(1), "beta": 0.5}, about="1 input, beta = 0.5"),
             Case({"xs": np.linspace(-1.0, 2.0, 12), "beta": 0.0}, about="12 inputs, beta = 0",
                  notes={"not_finite": zero_beta, "raised": zero_beta})]
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
        (from_first, "the average that starts at the first input, m_1 = x_1 (exercise (c) "
         "on an average that does not start at zero): unbiased too, but with x_1 weighted by "
         "beta^(t-1); this exercise starts at m_0 = 0 and divides by `1 - beta**t`"),
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
        cases.append(Case({"xs": xs, "observed": observed, "beta": beta},
                          about=f"{T} steps, {observed.sum()} observed, beta = {beta:g}"))
    mistakes = [
        (mistake(use_mask=False), "the bias-corrected EMA of every input, observed or not: "
         "an input that was not observed must not enter the average"),
        (mistake(weight="steps"), "Adam's correction `1 - beta**t`, which assumes an input "
         "joined at every step; divide by the weight the *observed* inputs have, itself an EMA "
         "of `observed` started at 0"),
        (mistake(decay_always=False, weight="steps"), "the lazy average of "
         "torch.optim.SparseAdam, which leaves a_t as it is at the steps without an input and "
         "divides by 1 - beta**t with the global t: here a_t decays at every step, and you "
         "divide by the weight the observed inputs have in it, the EMA of `observed` started "
         "at 0"),
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
