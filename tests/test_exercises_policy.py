"""What every checker does alike (issue 17): the failing case is shown, the arguments' order is
compared with the names, one precision policy with one float32 explanation, one rule for lists,
and a known mistake named only when it gives the learner's answer on every call.

Each message is asserted on a planted mistake; the right answers are written here from the
book's formulas.
"""

import numpy as np
import pytest

from adam_course import optim
from adam_course.exercises import (
    Case,
    check_adam_step,
    check_adam_stream,
    check_best_step,
    check_bias_corrected_ema,
    check_gd_step,
    check_keras_rmsprop_port,
    check_masked_ema,
    check_mean_square_limit,
    check_minibatch_gradient,
    check_momentum_step,
    check_nesterov_step,
    check_rmsprop_step,
    check_steps,
    check_torch_eps,
    check_warmup_cosine,
)

# --- right answers -----------------------------------------------------------------------------


def gd_step(x, grad, lr):
    return x - lr * grad


def best_step(A):
    c = np.linalg.eigvalsh(A)
    return 2 / (c[-1] + c[0]), (c[-1] - c[0]) / (c[-1] + c[0])


def minibatch_gradient(w, X, y):
    return X.T @ (X @ w - y) / len(y)


def ms_limit(x, B):
    n, lam = len(x), np.mean(x**2)
    return 2 * lam / (lam**2 + np.var(x**2) / B * (n - B) / (n - 1))


def momentum_step(x, buf, grad, lr, momentum):
    buf = momentum * buf + grad
    return x - lr * buf, buf


def nesterov_step(x, buf, grad, lr, momentum):
    buf = momentum * buf + grad
    return x - lr * (grad + momentum * buf), buf


def rmsprop_step(x, square_avg, grad, lr, alpha, eps):
    square_avg = alpha * square_avg + (1 - alpha) * grad**2
    return x - lr * grad / (np.sqrt(square_avg) + eps), square_avg


def torch_eps(v, eps):
    return eps / (np.sqrt(v + eps) + np.sqrt(v))


def adam_step(x, m, v, grad, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    return x - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps), m, v


def bias_corrected_ema(xs, beta):
    m, out = 0.0, []
    for t, x in enumerate(xs, start=1):
        m = beta * m + (1 - beta) * x
        out.append(m / (1 - beta**t))
    return np.array(out)


def masked_ema(xs, observed, beta):
    a = w = 0.0
    out = []
    for x, seen in zip(xs, observed, strict=True):
        a = beta * a + (1 - beta) * x if seen else beta * a
        w = beta * w + (1 - beta) * seen
        out.append(a / w)
    return np.array(out)


def warmup_cosine(t, lr, warmup, total):
    if t <= warmup:
        return lr * t / warmup
    return lr * 0.5 * (1 + np.cos(np.pi * (t - warmup) / (total - warmup)))


def keras_port(learning_rate, rho, momentum, epsilon):
    return optim.rmsprop(lr=learning_rate, alpha=rho, eps=0.0, eps_root=epsilon,
                         momentum=momentum)


def stream(beta1, beta2):
    return np.concatenate([np.zeros(int(5 / (1 - beta2))), (beta2 / beta1) ** np.arange(30)])


RIGHT = {
    check_gd_step: gd_step, check_best_step: best_step,
    check_minibatch_gradient: minibatch_gradient, check_mean_square_limit: ms_limit,
    check_momentum_step: momentum_step, check_nesterov_step: nesterov_step,
    check_rmsprop_step: rmsprop_step, check_torch_eps: torch_eps, check_adam_step: adam_step,
    check_bias_corrected_ema: bias_corrected_ema, check_masked_ema: masked_ema,
    check_warmup_cosine: warmup_cosine, check_keras_rmsprop_port: keras_port,
}


@pytest.mark.parametrize("checker", RIGHT, ids=lambda c: c.__name__)
def test_the_right_answers_here_pass(checker):
    """The reference answers of this file are right, so each test below plants one slip."""
    feedback = checker(RIGHT[checker])
    assert feedback.ok, feedback.message


# --- the failing case is always shown ----------------------------------------------------------


def wrong_when(answer, condition):
    """``answer``, off by 10% when ``condition(*args)`` holds."""
    def fn(*args):
        result = answer(*args)
        if not condition(*args):
            return result
        if isinstance(result, tuple):
            return (result[0] * 1.1, *result[1:])
        return result * 1.1
    return fn


CASE_SHOWN = [
    (check_gd_step, lambda x, grad, lr: lr == 0.5,
     "at step 1 of case 2 (x of shape (3,), gradients of about 1, lr = 0.5)"),
    (check_best_step, lambda A: len(A) == 3, "on case 2 (A is 3 × 3, with eigenvalues 0.5, 2, 8)"),
    (check_minibatch_gradient, lambda w, X, y: len(y) == 10,
     "on case 2 (B = 10 rows of d = 3 features: X of shape (10, 3))"),
    (check_mean_square_limit, lambda x, B: B == 5, "on case 2 (n = 20 numbers, B = 5)"),
    (check_momentum_step, lambda x, buf, grad, lr, mu: mu == 0.99,
     "at step 1 of case 3 (x of shape (2, 3), gradients of about 3, lr = 0.01, momentum = 0.99)"),
    (check_nesterov_step, lambda x, buf, grad, lr, mu: mu == 0.5,
     "at step 1 of case 2 (x of shape (3,), gradients of about 1, lr = 0.05, momentum = 0.5, "
     "buf from the middle of a run)"),
    (check_rmsprop_step, lambda x, s, g, lr, alpha, eps: eps == 0.1,
     "at step 1 of case 4 (x of shape (4,), gradients of about 5, lr = 0.5, alpha = 0.5, "
     "eps = 0.1)"),
    (check_torch_eps, lambda v, eps: eps == 1e-3,
     "on case 3 (v of shape (2, 3): 0 first, then values from 1e-3 to 1e4 times eps, "
     "eps = 0.001)"),
    (check_adam_step, lambda x, m, v, grad, t, lr, b1, b2, eps: lr == 0.001 and t == 2,
     "at step 2 of case 3 (x of shape (2, 3), gradients of about 1e-06, lr = 0.001, beta1 = 0.9, "
     "beta2 = 0.999, eps = 1e-08)"),
    (check_bias_corrected_ema, lambda xs, beta: beta == 0.999,
     "on case 3 (30 inputs, beta = 0.999)"),
    (check_masked_ema, lambda xs, observed, beta: beta == 0.95, "on case 2 (40 steps, "),
    (check_warmup_cosine, lambda t, lr, w, n: w == 100, "(lr = 0.003, warmup = 100, total = 340)"),
]


@pytest.mark.parametrize("checker, condition, shown", CASE_SHOWN,
                         ids=[c.__name__ for c, _, _ in CASE_SHOWN])
def test_the_failing_case_is_shown_with_its_shapes_sizes_and_hyperparameters(
        checker, condition, shown):
    message = checker(wrong_when(RIGHT[checker], condition)).message
    assert shown in message, message


def test_the_first_call_is_shown_too():
    message = check_adam_step(wrong_when(adam_step, lambda *a: True)).message
    assert message.startswith("Your `x` is wrong on the first call (x of shape (1,), gradients of "
                              "about 1, lr = 0.1, beta1 = 0.9, beta2 = 0.999, eps = 1e-08) by ")


# --- the order of the arguments ------------------------------------------------------------------


def rmsprop_grad_second(x, grad, square_avg, lr, alpha, eps):
    """RMSProp written with gd_step's order: (x, grad, ...)."""
    return rmsprop_step(x, square_avg, grad, lr, alpha, eps)


def test_arguments_in_another_order_are_told_the_order_the_checker_passes():
    message = check_rmsprop_step(rmsprop_grad_second).message
    assert message == ("Your function takes (x, grad, square_avg, lr, alpha, eps), but the checker "
                       "passes the arguments in the order (x, square_avg, grad, lr, alpha, eps): "
                       "your `grad` would receive square_avg — put the parameters of your `def` "
                       "in that order.")
    assert "division by zero" not in message
    message = check_adam_step(lambda x, v, m, grad, t, lr, beta1, beta2, eps: None).message
    assert "your `v` would receive m" in message
    message = check_gd_step(lambda x, lr, grad: x - lr * grad).message
    assert "the order (x, grad, lr): your `lr` would receive grad" in message


def test_renamed_arguments_that_fail_are_reminded_of_the_order():
    """Renamed parameters cannot be compared: a failure without a known cause says the order."""
    def swapped_short_names(x, g, s, lr, a, e):  # g meant as the gradient: it gets square_avg
        s = a * s + (1 - a) * g**2
        return x - lr * g / (np.sqrt(s) + e), s

    message = check_rmsprop_step(swapped_short_names).message
    assert message.endswith("check the order of your arguments: the checker passes (x, square_avg, "
                            "grad, lr, alpha, eps), and yours are (x, g, s, lr, a, e).")
    # right, with other names: passes; with *args: nothing to compare, no reminder
    assert check_rmsprop_step(lambda x, s, g, lr, a, e: rmsprop_step(x, s, g, lr, a, e))
    message = check_rmsprop_step(lambda *a: swapped_short_names(*a)).message
    assert "is nan" in message and "order" not in message
    # a known mistake is the cause, not the order
    message = check_gd_step(lambda x, g, step: x + step * g).message
    assert "uphill" in message and "order" not in message


# --- one precision policy, one float32 explanation ----------------------------------------------


def in_float32(answer):
    """``answer`` with every number it returns rounded to float32."""
    def fn(*args):
        result = answer(*args)
        if isinstance(result, tuple):
            return tuple(np.asarray(r, dtype=np.float32) for r in result)
        return np.asarray(result, dtype=np.float32)
    return fn


def keras_port_float32(learning_rate, rho, momentum, epsilon):
    opt = keras_port(learning_rate, rho, momentum, epsilon)

    class Float32Params:
        def init(self, params):
            return opt.init(params)

        def step(self, params, grads, state):
            params, state = opt.step(params, grads, state)
            return params.astype(np.float32), state

    return Float32Params()


FLOAT32 = {checker: in_float32(answer) for checker, answer in RIGHT.items()}
FLOAT32[check_keras_rmsprop_port] = keras_port_float32


@pytest.mark.parametrize("checker", FLOAT32, ids=lambda c: c.__name__)
def test_every_checker_fails_a_float32_answer_with_the_same_explanation(checker):
    message = checker(FLOAT32[checker]).message
    assert message.endswith(" — your function returns float32 numbers, which keep only about 6 "
                            "significant digits, and the checker asks for 9: compute in float64, "
                            "numpy's default (leave out the np.float32), and check again."), message


def test_a_float16_answer_gets_the_same_explanation_with_its_digits():
    message = check_gd_step(lambda x, grad, lr: (x - lr * grad).astype(np.float16)).message
    assert "returns float16 numbers, which keep only about 3 significant digits" in message


def test_a_tiny_real_difference_is_told_it_is_not_round_off():
    """1e-7 of the step is far above float64's round-off: the message says so."""
    message = check_gd_step(lambda x, grad, lr: x - lr * grad * (1 + 1e-7)).message
    assert "is wrong on the first call" in message
    assert " of the largest value, where float64 round-off stays near 1e-15 and the checker " \
        "allows 1e-09; look for a small term, such as ε, left out or put in another place." \
        in message and "a real difference, not round-off: " in message
    # a large difference is not called tiny
    assert "round-off" not in check_gd_step(lambda x, grad, lr: x - 2 * lr * grad).message


def test_a_rate_that_is_zero_is_compared_on_its_own_scale():
    """The 1 x 1 bowl's rate is 0: an answer off by round-off (1e-16) passes, 1e-6 does not."""
    def almost(A):
        lr, rate = best_step(A)
        return lr, rate + (1e-16 if len(A) == 1 else 0.0)

    assert check_best_step(almost)
    message = check_best_step(lambda A: (best_step(A)[0], best_step(A)[1] + 1e-6 * (len(A) == 1)))
    assert "`rate` is wrong on case 3 (A is 1 × 1, [[4]])" in message.message


# --- one rule for what may be returned -----------------------------------------------------------


def as_lists(answer):
    """``answer`` with every array it returns as a (nested) list of floats."""
    def fn(*args):
        result = answer(*args)
        if isinstance(result, tuple):
            return [np.asarray(r).tolist() for r in result]
        return np.asarray(result).tolist()
    return fn


LISTS = {checker: as_lists(answer) for checker, answer in RIGHT.items()
         if checker is not check_keras_rmsprop_port}  # returns an optimizer, not numbers
LISTS[check_adam_stream] = lambda beta1, beta2: stream(beta1, beta2).tolist()


@pytest.mark.parametrize("checker", LISTS, ids=lambda c: c.__name__)
def test_every_checker_takes_lists_of_numbers_like_arrays(checker):
    feedback = checker(LISTS[checker])
    assert feedback.ok, feedback.message


@pytest.mark.parametrize("checker", [check_best_step, check_mean_square_limit,
                                     check_warmup_cosine], ids=lambda c: c.__name__)
def test_a_number_may_be_a_float_or_an_array_of_one(checker):
    def one_element_arrays(*args):
        result = RIGHT[checker](*args)
        if isinstance(result, tuple):
            return tuple(np.array([r]) for r in result)
        return np.reshape(result, (1,)) if np.ndim(result) == 0 else result

    assert checker(one_element_arrays)
    assert checker(lambda *a: (tuple(float(r) for r in RIGHT[checker](*a))
                               if isinstance(RIGHT[checker](*a), tuple)
                               else (float(RIGHT[checker](*a)) if np.ndim(RIGHT[checker](*a)) == 0
                                     else RIGHT[checker](*a))))


def test_what_is_not_numbers_is_named_as_it_is():
    assert check_best_step(lambda A: ("0.18", "0.82")).message == (
        "Your function returned a str for `lr`, but it should be a number.")
    assert check_best_step(lambda A: best_step(A)[0]).message == (
        "Your function returned a float, but it should return 2 values, as in "
        "`return lr, rate`.")
    assert check_torch_eps(lambda v, eps: np.sqrt(eps)).message.startswith(
        "Your function returned a single number for `eps_torch` on the first call")
    message = check_mean_square_limit(lambda x, B: np.full(3, ms_limit(x, B))).message
    assert "returned an array of shape (3,) for `limit`" in message
    assert message.endswith("but it should be a number.")
    message = check_gd_step(lambda x, grad, lr: [[1.0], [2.0, 3.0]]).message
    assert "returned a list for `x` that numpy cannot turn into an array of numbers" in message


# --- a known mistake is named only when it agrees on every call ----------------------------------


def test_a_mistake_that_agrees_on_one_call_only_is_not_named():
    """The step is x + 1 from x = 2, where doubling and squaring both give 4; only the mistake
    that gives the learner's answer on every call (x = 2, 3, 4) is named."""
    mistakes = [(lambda x: x * 2.0, "doubling"), (lambda x: x**2, "squaring")]
    case = [Case({"x": np.full(2, 2.0)})]
    for learner, named in [(lambda x: x**2, "squaring"), (lambda x: 2 * x, "doubling"),
                           (lambda x: x**2 + (x > 2), None)]:
        message = check_steps(learner, lambda x: x + 1, case, what="step", steps=3,
                              mistakes=mistakes).message
        assert "on the first call (x of shape (2,))" in message
        if named:
            assert message.endswith(f" — it matches {named}."), message
        else:
            assert "it matches" not in message


def ms_limit_integer_division(x, B):
    n, lam = len(x), np.mean(x**2)
    return 2 * lam / (lam**2 + np.var(x**2) / B * ((n - B) // (n - 1)))


def minibatch_over_d(w, X, y):
    return X.T @ (X @ w - y) / X.shape[1]


def rmsprop_without_one_minus_alpha(x, square_avg, grad, lr, alpha, eps):
    square_avg = alpha * square_avg + grad**2
    return x - lr * grad / (np.sqrt(square_avg) + eps), square_avg


COINCIDENCES = [
    # (checker, the learner's slip, its own hint, the hint of the slip it equals on call 1)
    (check_mean_square_limit, ms_limit_integer_division, "integer division, `(n - B) // (n - 1)`",
     "2/lam, gradient descent's limit"),
    (check_minibatch_gradient, minibatch_over_d, "the number of features d = X.shape[1]",
     "the gradient of the sum"),
    (check_rmsprop_step, rmsprop_without_one_minus_alpha,
     "`alpha * square_avg + grad**2`, without the factor `1 - alpha`", "AdaGrad's sum"),
]


@pytest.mark.parametrize("checker, fn, own, coincidence", COINCIDENCES,
                         ids=[c.__name__ for c, *_ in COINCIDENCES])
def test_a_slip_that_equals_another_on_the_first_call_is_named_as_itself(
        checker, fn, own, coincidence):
    message = checker(fn).message
    assert "on the first call" in message and own in message and coincidence not in message
