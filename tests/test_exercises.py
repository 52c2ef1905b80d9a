"""The exercise checkers: right answers pass, each typical mistake gets its own message, and no
learner function can make a checker raise (except KeyboardInterrupt / SystemExit).

The right answers are written here from the book's formulas, and, independently, with torch.optim.
"""

import signal
import threading
import time

import numpy as np
import pytest
import torch  # test dependency (requirements-test.txt): missing torch fails, never skips

# torch's first optimizer step imports torch._dynamo (2 s here, more on a busy machine): done
# at import, so that a checker's TIME_LIMIT (5 s) times the function it checks, not that import.
import torch._dynamo  # noqa: F401

from adam_course.exercises import (
    Case,
    Feedback,
    check_adam_step,
    check_bias_corrected_ema,
    check_gd_step,
    check_minibatch_gradient,
    check_momentum_step,
    check_rmsprop_step,
    check_steps,
    engine,
)

# the first torch optimizer of a process is slow to build: not inside a timed check
pytestmark = pytest.mark.usefixtures("torch_optim_ready")

# --- right answers, from the formulas ---------------------------------------------------------


def gd_step(x, grad, lr):
    return x - lr * grad


def minibatch_gradient(w, X, y):
    return X.T @ (X @ w - y) / len(y)


def momentum_step(x, buf, grad, lr, momentum):
    buf = momentum * buf + grad
    return x - lr * buf, buf


def rmsprop_step(x, square_avg, grad, lr, alpha, eps):
    square_avg = alpha * square_avg + (1 - alpha) * grad**2
    return x - lr * grad / (np.sqrt(square_avg) + eps), square_avg


def adam_step(x, m, v, grad, t, lr, beta1, beta2, eps, *, eps_inside=False, t_shift=0,
              correct=True, sign=-1):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1 ** (t + t_shift)) if correct else m
    v_hat = v / (1 - beta2 ** (t + t_shift)) if correct else v
    scale = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
    return x + sign * lr * m_hat / scale, m, v


def bias_corrected_ema(xs, beta):
    m, out = 0.0, []
    for t, x in enumerate(xs, start=1):
        m = beta * m + (1 - beta) * x
        out.append(m / (1 - beta**t))
    return np.array(out)


RIGHT = {
    check_gd_step: gd_step,
    check_minibatch_gradient: minibatch_gradient,
    check_momentum_step: momentum_step,
    check_rmsprop_step: rmsprop_step,
    check_adam_step: adam_step,
    check_bias_corrected_ema: bias_corrected_ema,
}


@pytest.mark.parametrize("checker", RIGHT, ids=lambda c: c.__name__)
def test_a_right_answer_passes(checker):
    feedback = checker(RIGHT[checker])
    assert feedback.ok, feedback.message
    assert str(feedback).startswith("✅ Correct: your ")
    assert "matches the reference on" in feedback.message


def test_the_message_counts_cases_and_steps():
    assert "on 4 cases × 5 steps." in check_adam_step(adam_step).message
    assert check_minibatch_gradient(minibatch_gradient).message.endswith("on 5 cases.")


def test_a_list_of_outputs_is_accepted_like_a_tuple():
    assert check_momentum_step(lambda *a: list(momentum_step(*a)))


# --- right answers, from torch.optim (an independent reference) -------------------------------


def torch_step(cls, x, grad, state, **hyper):
    """One torch.optim step from the given state; returns the new x and the new state."""
    p = torch.nn.Parameter(torch.tensor(x.copy()))
    opt = cls([p], foreach=False, **hyper)
    opt.state[p] = {k: torch.tensor(np.array(v, dtype=np.float64)) for k, v in state.items()}
    p.grad = torch.tensor(grad.copy())
    opt.step()
    return p.detach().numpy().copy(), {k: v.numpy().copy() for k, v in opt.state[p].items()}


def test_torchs_momentum_passes():

    def step(x, buf, grad, lr, momentum):
        x, state = torch_step(torch.optim.SGD, x, grad, {"momentum_buffer": buf}, lr=lr,
                              momentum=momentum)
        return x, state["momentum_buffer"]

    assert check_momentum_step(step)


def test_torchs_rmsprop_passes():

    def step(x, square_avg, grad, lr, alpha, eps):
        x, state = torch_step(torch.optim.RMSprop, x, grad, {"step": 0.0, "square_avg": square_avg},
                              lr=lr, alpha=alpha, eps=eps)
        return x, state["square_avg"]

    assert check_rmsprop_step(step)


def test_torchs_adam_passes():

    def step(x, m, v, grad, t, lr, beta1, beta2, eps):
        state = {"step": t - 1.0, "exp_avg": m, "exp_avg_sq": v}
        x, state = torch_step(torch.optim.Adam, x, grad, state, lr=lr, betas=(beta1, beta2),
                              eps=eps)
        return x, state["exp_avg"], state["exp_avg_sq"]

    assert check_adam_step(step)


# --- each typical mistake gets the right message ----------------------------------------------


def mutating_momentum(x, buf, grad, lr, momentum):
    buf *= momentum
    buf += grad
    return x - lr * buf, buf


def mutating_gd(x, grad, lr):
    x -= lr * grad
    return x


def not_yet(*args):
    raise NotImplementedError


def ema_from_zero(xs, beta):  # counts t from 0: divides the first value by 1 - beta**0 = 0
    m, out = 0.0, []
    for t, x in enumerate(xs):
        m = beta * m + (1 - beta) * x
        out.append(m / (1 - beta**t))
    return np.array(out)


def ema_form_momentum(x, buf, grad, lr, momentum):
    buf = momentum * buf + (1 - momentum) * grad
    return x - lr * buf, buf


def no_return(x, grad, lr):
    x - lr * grad  # noqa: B018 -- the mistake under test


BROKEN = [
    # (checker, learner's function, fragments the message must contain)
    (check_gd_step, lambda x, grad, lr: x + lr * grad, ["wrong on the first call", "uphill"]),
    (check_gd_step, lambda x, grad, lr: x - grad, ["without the step size"]),
    (check_gd_step, lambda x, grad, lr: lr * grad,
     ["`x` is wrong on the first call", "the step `lr * grad` itself: return the new point"]),
    (check_gd_step, lambda x, grad, lr: -lr * grad, ["the step `-lr * grad` itself"]),
    (check_gd_step, lambda x, grad: x - grad,
     ["should take 3 arguments (x, grad, lr), in this order"]),
    (check_gd_step, no_return, ["returned None", "forget the `return`"]),
    (check_gd_step, lambda x, grad, lr: [str(v) for v in x - lr * grad],
     ["`x` holds str values, but it should hold real numbers"]),
    (check_gd_step, lambda x, grad, lr: (x - lr * grad)[:1],
     ["returned shape (1,) for `x` at step 1 of case 2 (x of shape (3,), gradients of about 1, "
      "lr = 0.5), but expected an array of shape (3,)"]),
    (check_gd_step, lambda x, grad, lr: x - lr * grad + np.nan, ["`x` is nan on the first call"]),
    (check_gd_step, lambda x, grad, lr: 1 / 0,
     ["raised ZeroDivisionError: division by zero on the first call"]),
    (check_gd_step, mutating_gd, ["changed its argument `x` in place", "return a new array"]),
    (check_gd_step, not_yet, ["Not implemented yet"]),
    (check_gd_step, gd_step(np.ones(3), np.ones(3), 0.1), ["not a function"]),
    (check_minibatch_gradient, lambda w, X, y: X.T @ (X @ w - y), ["divide by the batch size"]),
    (check_minibatch_gradient, lambda w, X, y: X.T @ (y - X @ w) / len(y), ["wrong sign"]),
    (check_minibatch_gradient, lambda w, X, y: 2 * X.T @ (X @ w - y) / len(y), ["twice"]),
    (check_momentum_step, ema_form_momentum,
     ["`x` is wrong on the first call", "EMA form", "heavy-ball"]),
    (check_momentum_step, lambda *a: (2 * a[0] - momentum_step(*a)[0], momentum_step(*a)[1]),
     ["uphill"]),
    (check_momentum_step, lambda x, buf, grad, lr, mu: (x - lr * buf, mu * buf + grad),
     ["old buffer"]),
    (check_momentum_step, lambda x, buf, grad, lr, mu: x - lr * (mu * buf + grad),
     ["returned a numpy array, but it should return 2 values, as in `return new_x, new_buf`"]),
    (check_momentum_step, mutating_momentum, ["changed its argument `buf` in place"]),
    (check_rmsprop_step,
     lambda x, s, g, lr, a, eps: (x - lr * g / np.sqrt(a * s + (1 - a) * g**2 + eps),
                                  a * s + (1 - a) * g**2),
     ["inside the square root"]),
    (check_rmsprop_step,
     lambda x, s, g, lr, a, eps: (x - lr * g / (np.sqrt(a * s + (1 - a) * g) + eps),
                                  a * s + (1 - a) * g),
     ["is nan", "not of its square"]),
    (check_adam_step, lambda *a: adam_step(*a, sign=+1), ["uphill"]),
    (check_adam_step, lambda *a: adam_step(*a, t_shift=+1), ["t + 1"]),
    (check_adam_step, lambda *a: adam_step(*a, t_shift=-1),
     ["`x` is nan on the first call", "t - 1"]),
    (check_adam_step, lambda *a: adam_step(*a, correct=False), ["without bias correction"]),
    # eps inside the square root agrees to round-off while |g| >> sqrt(eps): only case 3, the
    # one with tiny gradients, shows it (the value check catches it; the hint names it)
    (check_adam_step, lambda *a: adam_step(*a, eps_inside=True),
     ["at step 1 of case 3", "inside the square root"]),
    (check_adam_step, lambda *a: adam_step(*a)[:2],
     ["returned 2 values, but it should return 3 values, as in `return new_x, new_m, new_v`"]),
    (check_adam_step, lambda *a: (adam_step(*a)[0], adam_step(*a)[2], adam_step(*a)[1]),
     ["`m` is wrong on the first call"]),
    (check_bias_corrected_ema, lambda xs, beta: {"m_hat": xs}, ["returned a dict for `m_hat`",
                                                                "should be an array of shape"]),
    (check_bias_corrected_ema, ema_from_zero, ["`m_hat[0]` is inf", "counting t from 0"]),
]


@pytest.mark.parametrize("checker, fn, fragments", BROKEN,
                         ids=[f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(BROKEN)])
def test_each_mistake_gets_the_right_message(checker, fn, fragments):
    feedback = checker(fn)
    assert not feedback.ok
    assert str(feedback).startswith("❌ ")
    for fragment in fragments:
        assert fragment in feedback.message
    assert feedback.message.endswith((".", "?")) and "\n" not in feedback.message


def test_the_wrong_value_message_names_the_output_the_step_and_both_numbers():
    def wrong_at_step_3(x, grad, lr, calls=[0]):  # noqa: B006 -- counts its own calls
        calls[0] += 1
        return x - lr * grad + (0.02 if calls[0] == 3 else 0.0)

    message = check_gd_step(wrong_at_step_3).message
    assert message.startswith("Your `x` is wrong at step 3 of case 1 (x of shape (1,), gradients "
                              "of about 1, lr = 0.1) by 0.02: expected ")
    expected, got = (float(s) for s in message.rstrip(".").split("expected ")[1].split(", got "))
    assert got - expected == pytest.approx(0.02, abs=1e-4)


def test_a_tiny_error_is_printed_with_enough_digits_to_see_it():
    message = check_gd_step(lambda x, grad, lr: x - lr * grad + 1e-6).message
    expected, got = message.rstrip(".").split("expected ")[1].split(", got ")
    assert expected != got


# --- a checker never raises into the kernel ---------------------------------------------------


class Weird:
    def __len__(self):
        raise RuntimeError("no length")

    def __array__(self, *args, **kwargs):
        raise RuntimeError("no array")


PATHOLOGICAL = [
    lambda *a: None, lambda *a: "text", lambda *a: 3, lambda *a: (), lambda *a: (None,) * 3,
    lambda *a: Weird(), lambda *a: (Weird(),) * 3, lambda *a: [np.zeros(2)] * 3,
    lambda *a: {"x": 1}, lambda *a: np.array(["a"]), lambda *a: np.full((7, 7), np.inf),
    lambda *a: tuple(np.array(v, dtype=object) if isinstance(v, np.ndarray) else v for v in a),
    lambda *a: a, lambda *a: [a[0]] * 3, lambda *a: a[0] + 1j, lambda *a: a[0].astype(bool),
    lambda: None, lambda *a, **k: [][0], lambda *a: ({}[0]), lambda *a: a[0].reshape(-1, 1),
    not_yet, None, 42, "gd_step", np.add, print,
]


@pytest.mark.parametrize("checker", RIGHT, ids=lambda c: c.__name__)
def test_no_learner_function_makes_a_checker_raise(checker):
    for fn in PATHOLOGICAL:
        feedback = checker(fn)
        assert isinstance(feedback, Feedback) and not feedback.ok
        assert feedback.message and "\n" not in feedback.message


@pytest.mark.parametrize("exception", [KeyboardInterrupt, SystemExit])
def test_keyboard_interrupt_and_system_exit_get_through(exception):
    def interrupted(*args):
        raise exception

    with pytest.raises(exception):
        check_adam_step(interrupted)


# --- Feedback and the generic engine ----------------------------------------------------------


def test_feedback_shows_its_message_and_is_truthy_when_ok():
    good, bad = Feedback(True, "Correct: yes."), Feedback(False, "No.")
    assert bool(good) and not bad
    assert str(good) == repr(good) == good._repr_markdown_() == "✅ Correct: yes."
    assert str(bad) == repr(bad) == "❌ No."
    with pytest.raises(AttributeError):
        good.ok = False  # frozen


def test_check_steps_feeds_outputs_back_in():
    """A counter that doubles: the learner's output is its next input, for `steps` calls."""
    seen = []

    def double(x):
        seen.append(x.copy())
        return 2 * x

    feedback = check_steps(double, lambda x: 2 * x, [Case({"x": np.ones(2)})], what="doubling",
                           steps=3)
    assert feedback.ok and feedback.message.endswith("on 1 case × 3 steps.")
    np.testing.assert_array_equal(seen, [[1, 1], [2, 2], [4, 4]])


def test_check_steps_reports_a_bad_reference_without_raising():
    def broken_reference(x):
        raise RuntimeError("bug in the reference")

    feedback = check_steps(lambda x: x, broken_reference, [Case({"x": np.ones(2)})], what="thing")
    assert not feedback.ok and "Could not check your thing" in feedback.message


def test_messages_use_the_right_article():
    feedback = check_adam_step(lambda x, m, v, grad, t, lr, beta1, beta2, eps: 3)
    assert not feedback.ok and "returned an int" in feedback.message


# --- a learner's function that never returns --------------------------------------------------


def forever(x, grad, lr):
    """Loops (for 10 s, so that a checker without a time limit fails this test, not hangs)."""
    end = time.monotonic() + 10
    while time.monotonic() < end:
        pass
    return x - lr * grad


def forever_swallowing_exceptions(x, grad, lr):
    """Loops inside a catch-all: the checker's stop must not be an Exception it swallows."""
    try:
        forever(x, grad, lr)
    except Exception:
        pass
    return x - lr * grad


@pytest.fixture
def short_limit(monkeypatch):
    monkeypatch.setattr(engine, "TIME_LIMIT", 0.3)


@pytest.mark.parametrize("fn", [forever, forever_swallowing_exceptions])
def test_a_function_that_never_returns_is_stopped_and_the_handler_restored(fn, short_limit):
    def kernels_handler(signum, frame):  # stands for whatever the kernel had installed
        raise AssertionError("the kernel's handler ran")

    previous = signal.signal(signal.SIGALRM, kernels_handler)
    try:
        start = time.monotonic()
        feedback = check_gd_step(fn)
        assert time.monotonic() - start < 3
        assert not feedback.ok and "\n" not in feedback.message
        assert "did not return within 0.3 seconds on the first call" in feedback.message
        assert signal.getsignal(signal.SIGALRM) is kernels_handler
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        assert check_gd_step(gd_step).ok  # the next check runs normally, and leaves no trace
        assert signal.getsignal(signal.SIGALRM) is kernels_handler
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    finally:
        signal.signal(signal.SIGALRM, previous)


def test_a_running_timer_of_the_kernel_is_given_back(short_limit):
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: None)
    try:
        signal.setitimer(signal.ITIMER_REAL, 30.0)
        assert check_gd_step(gd_step).ok
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 25.0 < left <= 30.0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_off_the_main_thread_a_checker_runs_without_a_time_limit(short_limit):
    """Signals work only in the main thread: elsewhere the call is not limited, nor broken."""
    results = []

    def slow_but_right(x, grad, lr):
        time.sleep(0.02)
        return x - lr * grad

    thread = threading.Thread(target=lambda: results.append(check_gd_step(slow_but_right)))
    thread.start()
    thread.join(timeout=30)
    assert results and results[0].ok
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.default_int_handler, None)
