"""Chapter 4's checkers: porting Keras's ε (inside the root) to torch's (outside), and the
RMSProp step's recognised slips.

The right ε is checked by what it is for: with it, one torch.optim.RMSprop step equals the
step of Keras's formula lr * g / sqrt(v + eps) (written here from keras/src/optimizers/rmsprop.py).
The right RMSProp step is torch.optim.RMSprop's; every slip the checker names is planted here.
"""

import numpy as np
import pytest
import torch  # test dependency (requirements-test.txt): missing torch fails, never skips

from adam_course.exercises import Feedback, check_rmsprop_step, check_torch_eps

# the first torch optimizer of a process is slow to build: not inside a timed check
pytestmark = pytest.mark.usefixtures("torch_optim_ready")


def torch_eps(v, eps):
    return np.sqrt(v + eps) - np.sqrt(v)


def test_the_right_answer_passes_in_either_form():
    feedback = check_torch_eps(torch_eps)
    assert feedback.ok, feedback.message
    assert feedback.message == "Correct: your torch ε matches the reference on 5 cases."
    assert check_torch_eps(lambda v, eps: eps / (np.sqrt(v + eps) + np.sqrt(v)))


@pytest.mark.parametrize("keras_eps", [1e-7, 1e-3])
def test_with_the_answer_torchs_rmsprop_takes_keras_step(keras_eps):
    rng = np.random.default_rng(1)
    lr, rho = 0.01, 0.9
    x, grad = rng.standard_normal(6), 1e-3 * rng.standard_normal(6)
    v_before = 1e-7 * rng.random(6)
    v = rho * v_before + (1 - rho) * grad**2            # both frameworks' new average
    keras_x = x - lr * grad / np.sqrt(v + keras_eps)    # Keras: epsilon inside the root
    for i in range(6):                                  # torch's eps is a scalar per optimizer
        p = torch.nn.Parameter(torch.tensor(x[i:i + 1].copy()))
        opt = torch.optim.RMSprop([p], lr=lr, alpha=rho, eps=float(torch_eps(v[i], keras_eps)),
                                  foreach=False)
        opt.state[p] = {"step": torch.tensor(0.0),
                        "square_avg": torch.tensor(v_before[i:i + 1].copy())}
        p.grad = torch.tensor(grad[i:i + 1].copy())
        opt.step()
        np.testing.assert_allclose(p.detach().numpy(), keras_x[i:i + 1], rtol=1e-12)


SLIPS = [
    (lambda v, eps: np.sqrt(eps) + 0 * v, ["`eps_torch[", "`sqrt(eps)`", "only at v = 0"]),
    (lambda v, eps: eps + 0 * v, ["Keras's `eps` itself"]),
    (lambda v, eps: np.sqrt(v + eps), ["whole denominator", "subtract `sqrt(v)`"]),
    (lambda v, eps: eps / (2 * np.sqrt(v)), ["is inf on the first call", "first-order"]),
    (lambda v, eps: np.sqrt(v) - np.sqrt(v + eps), ["wrong sign"]),
    (lambda v, eps: np.sqrt(eps), ["returned a single number for `eps_torch`",
                                   "but expected an array of shape (7,)"]),
    (lambda v, eps: torch_eps(v, eps).astype(np.float32),
     ["is wrong", "returns float32 numbers", "float64"]),
]


@pytest.mark.parametrize("fn, fragments", SLIPS, ids=range(len(SLIPS)))
def test_each_slip_gets_its_message(fn, fragments):
    feedback = check_torch_eps(fn)
    assert not feedback.ok
    for fragment in fragments:
        assert fragment in feedback.message, feedback.message
    assert feedback.message.endswith(".") and "\n" not in feedback.message


def test_no_learner_function_makes_the_checker_raise():
    for fn in [lambda *a: None, lambda *a: "text", lambda *a: np.zeros(7), lambda: 0,
               lambda *a: [][0], lambda v, eps: v + 1j, lambda *a: a, 3, None,
               lambda v, eps: np.sqrt(-v - eps)]:
        feedback = check_torch_eps(fn)
        assert isinstance(feedback, Feedback) and not feedback.ok
        assert feedback.message and "\n" not in feedback.message


def test_a_float32_answer_is_told_about_precision():
    """A right formula computed in float32 is off by ~1e-8 relative: the message says why."""
    for fn in [lambda v, eps: torch_eps(v, eps).astype(np.float32),
               lambda v, eps: np.float32(eps) / (np.sqrt(v.astype(np.float32) + np.float32(eps))
                                                 + np.sqrt(v.astype(np.float32))),
               lambda v, eps: torch_eps(v, eps).astype(np.float16)]:
        feedback = check_torch_eps(fn)
        assert not feedback.ok and "is wrong" in feedback.message
        assert "float64" in feedback.message and "significant digits" in feedback.message
        assert feedback.message.endswith(".") and "\n" not in feedback.message
    # a float64 answer that is wrong gets no precision hint; a recognised slip keeps its own
    assert "float64" not in check_torch_eps(lambda v, eps: 1.001 * torch_eps(v, eps)).message
    assert "float64" not in check_torch_eps(lambda v, eps: eps + 0 * v).message


def rmsprop(x, square_avg, grad, lr, alpha, eps):
    square_avg = alpha * square_avg + (1 - alpha) * grad**2
    return x - lr * grad / (np.sqrt(square_avg) + eps), square_avg


def test_torchs_rmsprop_step_passes():
    def step(x, square_avg, grad, lr, alpha, eps):
        p = torch.nn.Parameter(torch.tensor(x.copy()))
        opt = torch.optim.RMSprop([p], lr=lr, alpha=alpha, eps=eps, foreach=False)
        opt.state[p] = {"step": torch.tensor(1.0), "square_avg": torch.tensor(square_avg.copy())}
        p.grad = torch.tensor(grad.copy())
        opt.step()
        return p.detach().numpy().copy(), opt.state[p]["square_avg"].numpy().copy()

    assert check_rmsprop_step(step)
    assert check_rmsprop_step(rmsprop)


RMSPROP_SLIPS = [
    (lambda x, s, g, lr, a, eps: (x - lr * g / (np.sqrt(s) + eps), a * s + (1 - a) * g**2),
     ["`x` is wrong on the first call", "old average"]),
    (lambda *args: rmsprop(*args)[::-1],
     ["`x` is wrong on the first call", "wrong order", "`(new_x, new_square_avg)`"]),
    (lambda x, s, g, lr, a, eps: (x - lr * g / (np.sqrt(s + g**2) + eps), s + g**2),
     ["`x` is wrong on the first call", "AdaGrad's sum"]),
    # a difference of 1e-7 relative on the first call: named, not left to look like round-off
    (lambda x, s, g, lr, a, eps: (x - lr * g / np.sqrt(a * s + (1 - a) * g**2),
                                  a * s + (1 - a) * g**2),
     ["`x` is wrong on the first call", "by 5.7e-08", "a denominator without ε"]),
]


@pytest.mark.parametrize("fn, fragments", RMSPROP_SLIPS, ids=range(len(RMSPROP_SLIPS)))
def test_each_new_rmsprop_slip_gets_its_message(fn, fragments):
    feedback = check_rmsprop_step(fn)
    assert not feedback.ok
    for fragment in fragments:
        assert fragment in feedback.message, feedback.message
    assert feedback.message.endswith(".") and "\n" not in feedback.message
