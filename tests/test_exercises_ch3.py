"""Chapter 3's checkers: the momentum step's recognised slips and the torch-form Nesterov step.

Right answers come from the formulas and, independently, from torch.optim.SGD; every slip the
checkers name is planted here and must get its own message.
"""

import numpy as np
import pytest
import torch  # test dependency (requirements-test.txt): missing torch fails, never skips

# torch's first optimizer step imports torch._dynamo (2 s here, more on a busy machine): done
# at import, so that a checker's TIME_LIMIT (5 s) times the function it checks, not that import.
import torch._dynamo  # noqa: F401

from adam_course.exercises import Feedback, check_momentum_step, check_nesterov_step

# the first torch optimizer of a process is slow to build: not inside a timed check
pytestmark = pytest.mark.usefixtures("torch_optim_ready")


def heavy_ball(x, buf, grad, lr, momentum):
    buf = momentum * buf + grad
    return x - lr * buf, buf


def nesterov(x, buf, grad, lr, momentum):
    buf = momentum * buf + grad
    return x - lr * (grad + momentum * buf), buf


def keras_nesterov(x, velocity, grad, lr, momentum):
    """Keras 3's SGD(nesterov=True) (keras/src/optimizers/sgd.py), its velocity returned as the
    buffer: ``m = momentum * m - lr * g``, ``variable += momentum * m - lr * g``."""
    velocity = momentum * velocity - lr * grad
    return x + momentum * velocity - lr * grad, velocity


def torch_sgd(x, buf, grad, lr, momentum, nesterov):
    """One torch.optim.SGD step from the buffer ``buf`` (torch's own arithmetic)."""
    p = torch.nn.Parameter(torch.tensor(x.copy()))
    opt = torch.optim.SGD([p], lr=lr, momentum=momentum, nesterov=nesterov, foreach=False)
    opt.state[p] = {"momentum_buffer": torch.tensor(buf.copy())}
    p.grad = torch.tensor(grad.copy())
    opt.step()
    return p.detach().numpy().copy(), opt.state[p]["momentum_buffer"].numpy().copy()


def test_the_right_nesterov_step_passes():
    feedback = check_nesterov_step(nesterov)
    assert feedback.ok, feedback.message
    assert feedback.message.endswith("Nesterov step matches the reference on 4 cases × 5 steps.")


def test_torchs_nesterov_passes_and_its_heavy_ball_does_not():
    assert check_nesterov_step(lambda *a: torch_sgd(*a, nesterov=True))
    feedback = check_nesterov_step(lambda *a: torch_sgd(*a, nesterov=False))
    assert not feedback.ok and "the heavy ball" in feedback.message
    assert check_momentum_step(lambda *a: torch_sgd(*a, nesterov=False))


def test_sutskevers_form_gives_torchs_nesterov_points():
    """The derivation the exercise asks for: Sutskever's look-ahead point theta + beta v, stepped
    with v = beta v - lr grad(theta + beta v), is torch's parameter, and v = -lr buf."""
    rng = np.random.default_rng(0)
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    lr, beta = 0.1, 0.9
    theta, v = rng.standard_normal(2), np.zeros(2)
    x, buf = theta.copy(), np.zeros(2)
    for _ in range(30):
        v = beta * v - lr * A @ (theta + beta * v)
        theta = theta + v
        x, buf = nesterov(x, buf, A @ x, lr, beta)
        np.testing.assert_allclose(x, theta + beta * v, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(v, -lr * buf, rtol=1e-12, atol=1e-14)


NESTEROV_SLIPS = [
    (heavy_ball, ["`x` is wrong on the first call", "the heavy ball"]),
    (lambda x, b, g, lr, m: (x - lr * (g + m * b), m * b + g), ["the heavy ball", "*new*"]),
    (lambda x, b, g, lr, m: (x - lr * (g + m * (m * b + g)), m * b - lr * g),
     ["`buf` is wrong on the first call", "Sutskever's velocity"]),
    (lambda x, b, g, lr, m: (x + lr * (g + m * (m * b + g)), m * b + g), ["uphill"]),
    (lambda x, b, g, lr, m: (x - lr * (g + (m * b + g)), m * b + g), ["without its factor"]),
    (lambda x, b, g, lr, m: (x - lr * m * (m * b + g), m * b + g), ["`momentum * buf` alone"]),
    (lambda x, b, g, lr, m: nesterov(x, b, g, lr, m)[::-1], ["`x` is wrong", "wrong order"]),
    (lambda x, b, g, lr, m: (x - lr * (g - m * (m * b + g)), m * b + g),
     ["`x` is wrong on the first call", "minus sign on the momentum term"]),
    (lambda x, b, g, lr, m: (x - lr * (g + m * (m * b + (1 - m) * g)), m * b + (1 - m) * g),
     ["`x` is wrong on the first call", "EMA buffer"]),
    (lambda x, b, g, lr, m: keras_nesterov(x, b, g, lr, m),
     ["`x` is wrong on the first call", "Keras's velocity form"]),
    (lambda x, b, g, lr, m: nesterov(x, b, g, lr, m)[0], ["should return 2 values"]),
]

MOMENTUM_SLIPS = [
    (lambda x, b, g, lr, m: heavy_ball(x, b, g, lr, m)[::-1],
     ["`x` is wrong on the first call", "wrong order", "`(new_x, new_buf)`"]),
    (lambda x, b, g, lr, m: (x - (m * b + lr * g), m * b + lr * g),
     ["`buf` is wrong on the first call", "learning rate inside the buffer"]),
    (lambda x, b, g, lr, m: (x + (m * b - lr * g), m * b - lr * g),
     ["`buf` is wrong on the first call", "Sutskever's (and Keras's) velocity"]),
    (nesterov, ["`x` is wrong on the first call", "Nesterov's step"]),
]


@pytest.mark.parametrize("fn, fragments", NESTEROV_SLIPS, ids=range(len(NESTEROV_SLIPS)))
def test_each_nesterov_slip_gets_its_message(fn, fragments):
    feedback = check_nesterov_step(fn)
    assert not feedback.ok
    for fragment in fragments:
        assert fragment in feedback.message, feedback.message
    assert feedback.message.endswith(".") and "\n" not in feedback.message


@pytest.mark.parametrize("fn, fragments", MOMENTUM_SLIPS, ids=range(len(MOMENTUM_SLIPS)))
def test_each_new_momentum_slip_gets_its_message(fn, fragments):
    feedback = check_momentum_step(fn)
    assert not feedback.ok
    for fragment in fragments:
        assert fragment in feedback.message, feedback.message


def test_a_slip_is_named_only_when_it_is_the_slip():
    """A wrong answer that is none of the known slips gets the numbers, not a wrong hint."""
    message = check_nesterov_step(lambda x, b, g, lr, m: (x - 3 * lr * g, m * b + g)).message
    assert "expected" in message and "it matches" not in message
    message = check_momentum_step(lambda x, b, g, lr, m: (x - 2 * lr * g, m * b + g)).message
    assert "expected" in message and "it matches" not in message


@pytest.mark.parametrize("checker", [check_nesterov_step, check_momentum_step])
def test_no_learner_function_makes_the_checkers_raise(checker):
    for fn in [lambda *a: None, lambda *a: "text", lambda *a: (np.zeros(7),) * 2, lambda: 0,
               lambda *a: [][0], lambda *a: (a[0] + 1j, a[1]), lambda *a: a, 3, None]:
        feedback = checker(fn)
        assert isinstance(feedback, Feedback) and not feedback.ok
        assert feedback.message and "\n" not in feedback.message
