"""Chapter 6's checkers: the stream that drives Adam's step close to its bound, the
bias-corrected EMA's recognised slips, and the bias-corrected EMA of an input observed only at
some steps.

Right answers are written here from the formulas (a loop, and independently a weighted sum);
the masked average's unbiasedness, the reason for its correction, is checked by simulation. The
stream checker's verdicts are compared with Adam written out here in plain Python floats and
with the closed form of the step after a quiet spell. Every slip the checkers name is planted
here and must get its own message.
"""

import numpy as np
import pytest

from adam_course.exercises import (
    Feedback,
    adam_step_bound,
    ch6_bias_correction,
    check_adam_stream,
    check_bias_corrected_ema,
    check_masked_ema,
)

# --- the stream that drives Adam's step to 7 alpha -------------------------------------------


def adam_steps(g, beta1, beta2, eps=1e-8):
    """|step| of Adam with lr = 1 on one coordinate, in plain Python floats (not the package)."""
    m = v = 0.0
    steps = []
    for t, gt in enumerate(g, start=1):
        m = beta1 * m + (1 - beta1) * gt
        v = beta2 * v + (1 - beta2) * gt * gt
        steps.append(abs(m / (1 - beta1**t) / ((v / (1 - beta2**t)) ** 0.5 + eps)))
    return np.array(steps)


def quiet_then_growing(quiet, grow):
    return lambda beta1, beta2: np.concatenate([np.zeros(quiet),
                                                (beta2 / beta1) ** np.arange(grow)])


def test_the_bound_is_the_limit_of_the_best_stream():
    """Cauchy-Schwarz's equality case: g_{t-k} proportional to (beta1/beta2)^k; the step after a
    quiet spell of Q zeros and n growing gradients is the bound times
    sqrt(1 - r^n) sqrt(1 - beta2^t) / (1 - beta1^t), r = beta1^2/beta2, t = Q + n."""
    for beta1, beta2 in [(0.9, 0.999), (0.8, 0.99), (0.5, 0.9)]:
        r = beta1**2 / beta2
        for quiet, grow in [(0, 40), (500, 10), (5000, 30)]:  # zeros first: eps = 1e-300
            g = quiet_then_growing(quiet, grow)(beta1, beta2)
            t = quiet + grow
            closed = (adam_step_bound(beta1, beta2) * np.sqrt(1 - r**grow)
                      * np.sqrt(1 - beta2**t) / (1 - beta1**t))
            assert adam_steps(g, beta1, beta2, eps=1e-300)[-1] == pytest.approx(closed, rel=1e-9)
    assert adam_step_bound(0.9, 0.999) == pytest.approx(7.2703, abs=1e-4)


def test_a_good_stream_passes_and_the_reported_steps_are_adams():
    fn = quiet_then_growing(5000, 30)
    feedback = check_adam_stream(fn)
    assert feedback.ok, feedback.message
    for beta1, beta2 in ch6_bias_correction.STREAM_PAIRS:
        largest = adam_steps(fn(beta1, beta2), beta1, beta2).max()
        assert f"{largest:.2f}α for betas ({beta1}, {beta2})" in feedback.message
        assert largest >= ch6_bias_correction.STREAM_SHARE * adam_step_bound(beta1, beta2)


def test_the_target_is_seven_alpha_for_the_default_betas():
    """Just below the target fails, just above passes (the quiet spell sets how close)."""
    share = ch6_bias_correction.STREAM_SHARE * adam_step_bound(0.9, 0.999)
    assert 6.95 < share < 7.0
    reached = {q: adam_steps(quiet_then_growing(q, 30)(0.9, 0.999), 0.9, 0.999).max()
               for q in (2500, 3000)}
    assert reached[2500] < share < reached[3000]
    assert not check_adam_stream(quiet_then_growing(2500, 30))
    assert check_adam_stream(quiet_then_growing(3000, 30))


STREAM_SLIPS = [
    (quiet_then_growing(0, 40), ["1.46α (at step 40 of 40)", "v's bias correction",
                                 "1/(1 - beta2) = 1000"]),
    (lambda b1, b2: np.concatenate([np.zeros(3000), [1.0]]),
     ["3.08α", "a lone spike", "3.16α"]),
    (lambda b1, b2: np.concatenate([np.zeros(3000), 2.0 ** np.arange(20)]),
     ["grows by a factor 2 per step", "beta2/beta1 = 1.110"]),
    (lambda b1, b2: np.concatenate([np.zeros(3000), 1.02 ** np.arange(20)]),
     ["grows by a factor 1.02 per step"]),
    (quiet_then_growing(3000, 5), ["the growth lasts only 5 steps", "0.811^k"]),
    # a stream that never grows is told so, not blamed on v's bias correction
    (lambda b1, b2: np.ones(1000), ["1.00α", "a constant gradient gives a step of exactly α",
                                    "beta2/beta1 = 1.110"]),
    (lambda b1, b2: np.full(20_000, -3.0), ["1.00α", "a constant gradient"]),
    (lambda b1, b2: np.concatenate([np.zeros(5000), (b1 / b2) ** np.arange(30)]),
     ["shrinks by a factor 0.901 per step", "beta2/beta1 = 1.110"]),
    (lambda b1, b2: np.concatenate([np.zeros(3000), (-(b2 / b1)) ** np.arange(20)]),
     ["its sign changes"]),
    (lambda b1, b2: (b2 / b1) ** np.arange(10_000), ["too large to square", "overflows"]),
    (lambda b1, b2: np.concatenate([np.zeros(5000), np.ones(30)]),
     ["6.55α (at step 5012 of 5030)", "the gradient is constant in the 12 steps up to it",
      "sinks back towards α", "beta2/beta1 = 1.110"]),
    (lambda b1, b2: 1e-12 * np.concatenate([np.zeros(int(5 / (1 - b2))),
                                            (b2 / b1) ** np.arange(30)]),
     ["0.00α", "its gradients are at most 2.1e-11, so ε = 1e-8 outweighs sqrt(v_hat)",
      "the same stream divided by 2.1e-11 drives it to 7.24α"]),
    (lambda b1, b2: np.zeros(100), ["does not move", "all zero"]),
    (lambda b1, b2: np.zeros(200_000), ["200,000 gradients", "at most 100,000"]),
    (lambda b1, b2: np.ones((3, 2)), ["shape (3, 2)", "1-D"]),
    (lambda b1, b2: None, ["returned None"]),
    (lambda beta: 1, ["should take 2 arguments"]),
]


@pytest.mark.parametrize("fn, fragments", STREAM_SLIPS, ids=range(len(STREAM_SLIPS)))
def test_each_stream_slip_gets_its_message(fn, fragments):
    feedback = check_adam_stream(fn)
    assert not feedback.ok
    for fragment in fragments:
        assert fragment in feedback.message, feedback.message
    assert feedback.message.endswith((".", "?")) and "\n" not in feedback.message


def test_a_constant_stream_is_not_blamed_on_the_bias_correction():
    message = check_adam_stream(lambda b1, b2: np.ones(1000)).message
    assert "bias correction" not in message and "grows" not in message


def test_a_constant_gradient_after_a_quiet_spell_is_not_said_to_shrink():
    message = check_adam_stream(lambda b1, b2: np.concatenate([np.zeros(5000), np.ones(30)]))
    assert "shrinks" not in message.message and "factor 1 " not in message.message


def test_a_stream_right_for_the_defaults_only_fails_on_the_other_betas():
    def defaults_only(beta1, beta2):
        return np.concatenate([np.zeros(5000), (0.999 / 0.9) ** np.arange(30)])

    message = check_adam_stream(defaults_only).message
    assert "for betas (0.5, 0.9)" in message and "beta2/beta1 = 1.800" in message



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
    (lambda xs, b: np.array([xs[0]] + [
        b**t * xs[0] + (1 - b) * sum(b ** (t - i) * xs[i] for i in range(1, t + 1))
        for t in range(1, len(xs))]),
     ["`m_hat[1]` is wrong on the first call (10 inputs, beta = 0.9)",
      "the average that starts at the first input, m_1 = x_1"]),
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
    (lambda xs, o, b: sparse_adam_lazy(xs, o, b),
     ["`a_hat[1]` is wrong on the first call (12 steps, 5 observed, beta = 0.9)",
      "the lazy average of torch.optim.SparseAdam"]),
    (lambda xs, o, b: masked_ema(xs, o, b) * [masked_weight(o, b, t) for t in range(1, len(o) + 1)],
     ["the raw average"]),
    (lambda xs, o, b: masked_ema(xs, o, b)[o], ["returned shape"]),
    (lambda xs, o, b: masked_ema(xs.astype(np.float32), o, np.float32(b)), ["float32"]),
    (lambda xs, o, b: estimate_only_when_observed(xs, o, b), ["no estimate (nan)"]),
    (lambda xs, o, b: mean_so_far(xs, o), ["the plain mean of the inputs observed so far"]),
]


def estimate_only_when_observed(xs, observed, beta):
    """The slip: the right a_t / w_t, but nan at the steps without a measurement."""
    out = np.full(len(xs), np.nan)
    for t, (right, o) in enumerate(zip(masked_ema(xs, observed, beta), observed, strict=True)):
        if o:
            out[t] = right
    return out


def mean_so_far(xs, observed):
    """The slip: the running mean of the observed inputs, all with the same weight."""
    total, n, out = 0.0, 0, []
    for x, o in zip(xs, observed, strict=True):
        if o:
            total, n = total + x, n + 1
        out.append(total / n)
    return np.array(out)


def masked_weight(observed, beta, t):
    """The weight the observed inputs have after t steps: sum of (1 - beta) beta^age."""
    age = t - 1 - np.flatnonzero(observed[:t])
    return float(np.sum((1 - beta) * beta**age))


def sparse_adam_lazy(xs, observed, beta):
    """The slip: torch.optim.SparseAdam's average, untouched without an input, corrected with
    the global t (torch/optim/_functional.py, sparse_adam)."""
    a, out = 0.0, []
    for t, (x, o) in enumerate(zip(xs, observed, strict=True), start=1):
        if o:
            a = beta * a + (1 - beta) * x
        out.append(a / (1 - beta**t))
    return np.array(out)


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


def closed_form_ema(xs, beta):
    """Right for beta > 0: m_t = (1 - beta) beta^t sum_i beta^(-i) x_i, then corrected."""
    t = np.arange(1, len(xs) + 1)
    return (1 - beta) * beta**t * np.cumsum(xs * beta ** (-t)) / (1 - beta**t)


def test_a_closed_form_with_negative_powers_is_told_beta_is_zero():
    message = check_bias_corrected_ema(closed_form_ema).message
    assert message == ("Your `m_hat[0]` is nan on case 5 (12 inputs, beta = 0), where the "
                       "reference gives -1.0000 — beta = 0 here, where the average is just the "
                       "latest input: a power such as beta**(-t) is infinite, so write the weights "
                       "as beta**(t - i), or use the recursion.")

    def in_python_floats(xs, beta):  # 0.0 ** -1 raises in plain Python
        return np.array([(1 - beta) * beta**t * sum(float(x) * beta ** (-i)
                                                      for i, x in enumerate(xs[:t], start=1))
                         / (1 - beta**t) for t in range(1, len(xs) + 1)])

    message = check_bias_corrected_ema(in_python_floats).message
    assert message.startswith("Your function raised ZeroDivisionError") and "on case 5 (12 " \
        "inputs, beta = 0)" in message and "beta = 0 here" in message
