"""Chapter 5's checkers: the Adam step's recognised slips, and the stream that drives Adam's step
close to its bound.

Right answers come from the formulas and, independently, from torch.optim.Adam; every slip the
checkers name is planted here and must get its own message. The stream checker's verdicts are
compared with Adam written out here in plain Python floats and with the closed form of the
step after a quiet spell.
"""

import numpy as np
import pytest
import torch  # test dependency (requirements-test.txt): missing torch fails, never skips

from adam_course import exercises
from adam_course.exercises import Feedback, adam_step_bound, check_adam_step, check_adam_stream

# the first torch optimizer of a process is slow to build: not inside a timed check
pytestmark = pytest.mark.usefixtures("torch_optim_ready")

# --- the Adam step ----------------------------------------------------------------------------


def adam(x, m, v, grad, t, lr, beta1, beta2, eps, *, m_rule=None, v_rule=None, m_hat=None,
         v_hat=None, step=None, returned=None):
    """Algorithm 1, each line replaceable by a slip."""
    m = m_rule(m, grad, beta1) if m_rule else beta1 * m + (1 - beta1) * grad
    v = v_rule(v, grad, beta2, beta1) if v_rule else beta2 * v + (1 - beta2) * grad**2
    mh = m_hat(m, beta1, t) if m_hat else m / (1 - beta1**t)
    vh = v_hat(v, beta2, t, beta1) if v_hat else v / (1 - beta2**t)
    new_x = x - (step(m, v, mh, vh, lr, eps, t, beta1, beta2) if step
                 else lr * mh / (np.sqrt(vh) + eps))
    return returned(new_x, m, v, mh, vh) if returned else (new_x, m, v)


def slip(**how):
    return lambda *a: adam(*a, **how)


def test_the_right_step_and_torchs_pass():
    assert check_adam_step(adam)

    def torch_adam(x, m, v, grad, t, lr, beta1, beta2, eps):
        p = torch.nn.Parameter(torch.tensor(x.copy()))
        opt = torch.optim.Adam([p], lr=lr, betas=(beta1, beta2), eps=eps, foreach=False)
        opt.state[p] = {"step": torch.tensor(t - 1.0), "exp_avg": torch.tensor(m.copy()),
                        "exp_avg_sq": torch.tensor(v.copy())}
        p.grad = torch.tensor(grad.copy())
        opt.step()
        return p.detach().numpy().copy(), opt.state[p]["exp_avg"].numpy().copy(), \
            opt.state[p]["exp_avg_sq"].numpy().copy()

    assert check_adam_step(torch_adam)


ADAM_SLIPS = [
    # the precedence slip gives nan, like t - 1 on the first step: each is named as itself
    (slip(m_hat=lambda m, b, t: m / 1 - b**t, v_hat=lambda v, b, t, b1: v / 1 - b**t),
     ["`x` is nan on the first call", "`(m / 1) - beta1**t`"]),
    (slip(m_hat=lambda m, b, t: m / (1 - b ** (t - 1)),
          v_hat=lambda v, b, t, b1: v / (1 - b ** (t - 1))),
     ["`x` is nan on the first call", "t - 1"]),
    (slip(m_hat=lambda m, b, t: m / 1 - b**t), ["`x` is wrong on the first call", "`(m / 1)"]),
    (slip(v_hat=lambda v, b, t, b1: v / 1 - b**t), ["`x` is nan", "`(v / 1) - beta2**t`"]),
    # the state is compared before x, so the message names the line that is wrong
    (slip(returned=lambda x, m, v, mh, vh: (x, mh, vh)),
     ["`m` is wrong on the first call", "returning m_hat and v_hat as the new state"]),
    (slip(returned=lambda x, m, v, mh, vh: (x, m, vh)),
     ["`v` is wrong on the first call", "returning v_hat as the new v"]),
    (slip(m_rule=lambda m, g, b: b * m + g, v_rule=lambda v, g, b, b1: b * v + g**2),
     ["`m` is wrong on the first call", "a sum", "`1 - beta`"]),
    (slip(m_rule=lambda m, g, b: b * m + g), ["`m` is wrong", "`m = beta1 * m + grad`"]),
    (slip(v_rule=lambda v, g, b, b1: b * v + g**2), ["`v` is wrong", "`v = beta2 * v + grad**2`"]),
    (slip(step=lambda m, v, mh, vh, lr, eps, t, b1, b2:
          lr * np.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v) + eps)),
     ["`x[0, 0]` is wrong at step 1 of case 3", "Keras's form (c)"]),
    (lambda *a: adam(*a)[::-1], ["`v` is wrong", "`(new_v, new_m, new_x)`"]),
    (lambda *a: (adam(*a)[0], adam(*a)[2], adam(*a)[1]),
     ["`m` is wrong", "`(new_x, new_v, new_m)`"]),
    (slip(v_rule=lambda v, g, b, b1: b1 * v + (1 - b1) * g**2),
     ["`v` is wrong on the first call", "beta1 in v's average"]),
    (slip(v_rule=lambda v, g, b, b1: b1 * v + (1 - b1) * g**2,
          v_hat=lambda v, b, t, b1: v / (1 - b1**t)),
     ["`v` is wrong on the first call", "beta1 in v's average and its correction"]),
    (slip(v_hat=lambda v, b, t, b1: v / (1 - b1**t)), ["`x` is wrong", "beta1 in v's correction"]),
    (slip(step=lambda m, v, mh, vh, lr, eps, *_: lr * mh / np.sqrt(vh)),
     ["`x[0, 0]` is wrong", "without ε"]),
    (slip(step=lambda m, v, mh, vh, lr, eps, *_: lr * m / (np.sqrt(vh) + eps)),
     ["`x` is wrong on the first call", "v corrected but not m"]),
    (slip(step=lambda m, v, mh, vh, lr, eps, *_: lr * mh / (np.sqrt(v) + eps)),
     ["`x` is wrong on the first call", "m corrected but not v"]),
    (slip(step=lambda m, v, mh, vh, lr, eps, *_: lr * mh / np.sqrt(vh + eps)),
     ["at step 1 of case 3", "inside the square root"]),
    (slip(step=lambda m, v, mh, vh, lr, eps, *_: -lr * mh / (np.sqrt(vh) + eps)), ["uphill"]),
]


@pytest.mark.parametrize("fn, fragments", ADAM_SLIPS, ids=range(len(ADAM_SLIPS)))
def test_each_adam_slip_gets_its_message(fn, fragments):
    feedback = check_adam_step(fn)
    assert not feedback.ok
    for fragment in fragments:
        assert fragment in feedback.message, feedback.message
    assert feedback.message.endswith(".") and "\n" not in feedback.message


def test_a_step_with_the_old_moments_is_named():
    def old_moments(x, m, v, grad, t, lr, beta1, beta2, eps):
        new_x = x - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
        return new_x, beta1 * m + (1 - beta1) * grad, beta2 * v + (1 - beta2) * grad**2

    message = check_adam_step(old_moments).message
    assert "`x` is wrong on the first call" in message and "the old m and v" in message


def test_a_float32_answer_is_told_it_is_one():
    def in_float32(x, m, v, grad, t, lr, beta1, beta2, eps):
        return tuple(np.float32(a) for a in adam(*(np.float32(a) for a in (x, m, v, grad)), t,
                                                 np.float32(lr), np.float32(beta1),
                                                 np.float32(beta2), np.float32(eps)))

    message = check_adam_step(in_float32).message
    assert "returns float32 numbers" in message and "float64" in message
    # the same numbers in float64 are simply wrong: the hint is about the dtype, not the values
    rounded = check_adam_step(lambda *a: tuple(np.float64(r) for r in in_float32(*a))).message
    assert "float32" not in rounded and "is wrong" in rounded


def test_an_unknown_nan_gets_no_hint():
    """A nan that no known slip gives (here: a nan from the second step on) gets the advice to
    look for a division by zero, not a hint that names the wrong slip."""
    def nan_later(x, m, v, grad, t, lr, beta1, beta2, eps):
        x, m, v = adam(x, m, v, grad, t, lr, beta1, beta2, eps)
        return (x * np.nan if t == 2 else x), m, v

    message = check_adam_step(nan_later).message
    assert "is nan at step 2 of case 1" in message and "it matches" not in message
    assert "division by zero" in message


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
    for beta1, beta2 in exercises.STREAM_PAIRS:
        largest = adam_steps(fn(beta1, beta2), beta1, beta2).max()
        assert f"{largest:.2f}α for betas ({beta1}, {beta2})" in feedback.message
        assert largest >= exercises.STREAM_SHARE * adam_step_bound(beta1, beta2)


def test_the_target_is_seven_alpha_for_the_default_betas():
    """Just below the target fails, just above passes (the quiet spell sets how close)."""
    share = exercises.STREAM_SHARE * adam_step_bound(0.9, 0.999)
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
    (lambda b1, b2: np.concatenate([np.zeros(3000), (-(b2 / b1)) ** np.arange(20)]),
     ["its sign changes"]),
    (lambda b1, b2: (b2 / b1) ** np.arange(10_000), ["too large to square", "overflows"]),
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


def test_a_stream_right_for_the_defaults_only_fails_on_the_other_betas():
    def defaults_only(beta1, beta2):
        return np.concatenate([np.zeros(5000), (0.999 / 0.9) ** np.arange(30)])

    message = check_adam_stream(defaults_only).message
    assert "for betas (0.5, 0.9)" in message and "beta2/beta1 = 1.800" in message


@pytest.mark.parametrize("checker", [check_adam_step, check_adam_stream])
def test_no_learner_function_makes_the_checkers_raise(checker):
    for fn in [lambda *a: None, lambda *a: "text", lambda *a: [np.zeros(7)] * 3, lambda: 0,
               lambda *a: [][0], lambda *a: np.array([1j, 2j]), lambda *a: a, 3, None,
               lambda *a: [np.nan] * 5, lambda *a: np.array(["a", "b"]),
               lambda *a: np.full(5, np.inf)]:
        feedback = checker(fn)
        assert isinstance(feedback, Feedback) and not feedback.ok
        assert feedback.message and "\n" not in feedback.message
