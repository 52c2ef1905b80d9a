"""Chapter 5's checker: the Adam step's recognised slips.

Right answers come from the formulas and, independently, from torch.optim.Adam; every slip the
checker names is planted here and must get its own message. (The stream that drives Adam's step
to its bound is chapter 6's exercise: tests/test_exercises_ch6.py.)
"""

import numpy as np
import pytest
import torch  # test dependency (requirements-test.txt): missing torch fails, never skips

from adam_course.exercises import Feedback, check_adam_step

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
     ["`x` is wrong on the first call", "by 2.3e-08", "Keras's form (c)"]),
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
     ["`x` is wrong on the first call", "without ε"]),
    (slip(step=lambda m, v, mh, vh, lr, eps, t, b1, b2:
          lr * mh / (np.sqrt(v) / (1 - b2**t) + eps)),
     ["`x` is wrong on the first call", "v's correction outside the square root",
      "`sqrt(v) / (1 - beta2**t)`"]),
    (slip(m_hat=lambda m, b, t: m / (1 - (1 - b) ** t),
          v_hat=lambda v, b, t, b1: v / (1 - (1 - b) ** t)),
     ["`x` is wrong on the first call", "corrections with `(1 - beta)**t`"]),
    (slip(m_hat=lambda m, b, t: m / (1 - (1 - b) ** t)),
     ["m's correction with `(1 - beta1)**t`: divide m by `1 - beta1**t`"]),
    (slip(v_hat=lambda v, b, t, b1: v / (1 - (1 - b) ** t)),
     ["v's correction with `(1 - beta2)**t`: divide v by `1 - beta2**t`"]),
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


def test_no_learner_function_makes_the_checker_raise():
    checker = check_adam_step
    for fn in [lambda *a: None, lambda *a: "text", lambda *a: [np.zeros(7)] * 3, lambda: 0,
               lambda *a: [][0], lambda *a: np.array([1j, 2j]), lambda *a: a, 3, None,
               lambda *a: [np.nan] * 5, lambda *a: np.array(["a", "b"]),
               lambda *a: np.full(5, np.inf)]:
        feedback = checker(fn)
        assert isinstance(feedback, Feedback) and not feedback.ok
        assert feedback.message and "\n" not in feedback.message
