"""Chapter 1's coding exercise `best_step(A) -> (lr, rate)`: the checker's reference against
independent ones (gradient descent run on each case, and a grid search), right answers in
several forms, each typical mistake with its own hint, and no crash whatever the learner does.
"""

import numpy as np
import pytest

from adam_course import optim
from adam_course.exercises import check_best_step

# --- right answers, written from the formula ---------------------------------------------------


def best_step(A):
    curvatures = np.linalg.eigvalsh(A)
    L, mu = curvatures.max(), curvatures.min()
    return 2 / (L + mu), (L - mu) / (L + mu)


def best_step_with_eigh(A):  # another route to the curvatures, returning a list of arrays
    curvatures = np.linalg.eigh(A)[0]
    kappa = curvatures[-1] / curvatures[0]
    return [np.array(2 / (curvatures[-1] + curvatures[0])), np.array((kappa - 1) / (kappa + 1))]


@pytest.mark.parametrize("answer", [best_step, best_step_with_eigh,
                                    lambda A: np.array(best_step(A)),
                                    lambda A: tuple(float(v) for v in best_step(A))],
                         ids=["numpy-floats", "eigh-list", "array-of-two", "floats"])
def test_right_answers_pass(answer):
    feedback = check_best_step(answer)
    assert feedback.ok, feedback.message
    assert feedback.message == "Correct: your best step and rate match the reference on 5 cases."


# --- the reference itself, against independent ones ---------------------------------------------


def cases():
    """The checker's matrices, recovered by recording what it passes to the learner."""
    seen = []

    def record(A):
        seen.append(A.copy())
        return best_step(A)

    assert check_best_step(record)
    return seen


def test_the_cases_are_symmetric_positive_definite_and_not_all_diagonal():
    matrices = cases()
    assert len(matrices) == 5 and {A.shape[0] for A in matrices} == {1, 2, 3, 4, 5}
    for A in matrices:
        assert np.allclose(A, A.T) and np.all(np.linalg.eigvalsh(A) > 0)
    off_diagonal = [np.abs(A - np.diag(np.diag(A))).max() for A in matrices if len(A) > 1]
    assert min(off_diagonal) > 0.1  # the diagonal is never the answer by accident


def test_the_accepted_rate_is_what_gradient_descent_measures():
    """Run GD with the accepted step on each case; the distance's last-50-step rate is the rate."""
    for A in cases():
        lr, rate = best_step(A)
        x0 = np.ones(len(A))
        path = optim.minimize(optim.sgd(lr=lr), lambda x, A=A: x @ A, x0, 120)
        distance = np.linalg.norm(path, axis=1)
        if rate == 0:  # kappa = 1: one step lands on the minimum
            assert distance[1] < 1e-12
            continue
        measured = (distance[-1] / distance[-51]) ** (1 / 50)
        assert np.isclose(measured, rate, rtol=1e-6)


def test_the_accepted_step_minimises_the_worst_factor_on_a_grid():
    for A in cases():
        lr, rate = best_step(A)
        curvatures = np.linalg.eigvalsh(A)
        etas = np.linspace(1e-4, 2 / curvatures.max(), 200_001)
        worst = np.abs(1 - np.outer(etas, curvatures)).max(axis=1)
        assert abs(etas[np.argmin(worst)] - lr) < 2 * (etas[1] - etas[0])
        assert np.isclose(worst.min(), rate, atol=1e-4)


# --- each typical mistake gets its own hint -----------------------------------------------------


def diagonal(A):
    d = np.diag(A)
    return 2 / (d.max() + d.min()), (d.max() - d.min()) / (d.max() + d.min())


def one_over_L(A):
    c = np.linalg.eigvalsh(A)
    return 1 / c[-1], 1 - c[0] / c[-1]


def two_over_L(A):
    c = np.linalg.eigvalsh(A)
    return 2 / c[-1], 1.0


def rate_squared(A):
    lr, rate = best_step(A)
    return lr, rate**2


def second_largest(A):
    c = np.linalg.eigvalsh(A)
    return 2 / (c[1] + c[0]), (c[1] - c[0]) / (c[1] + c[0])


def mutating(A):
    A *= 2
    return best_step(A / 2)


def not_yet(A):
    raise NotImplementedError


BROKEN = [
    (diagonal, ["`rate` is wrong on the first call", "diagonal of A", "eigvalsh"]),
    (one_over_L, ["`lr` is wrong on the first call", "lr = 1/L"]),
    (two_over_L, ["`lr` is wrong", "stability limit"]),
    (rate_squared, ["`rate` is wrong", "square of the rate"]),
    (lambda A: best_step(A)[::-1], ["swapped"]),
    (second_largest, ["wrong on case 2", "two smallest eigenvalues"]),
    (lambda A: best_step(A)[0], ["should return 2 values"]),
    (lambda A: None, ["returned None"]),
    (lambda A, B: best_step(A), ["should take 1 argument (A), in this order"]),
    (lambda A: (np.nan, 0.5), ["`lr` is nan"]),
    (lambda A: ("0.18", "0.82"), ["returned a str for `lr`"]),
    (lambda A: 1 / 0, ["raised ZeroDivisionError"]),
    (mutating, ["changed its argument `A` in place"]),
    (not_yet, ["Not implemented yet"]),
    (best_step(np.eye(2)), ["not a function"]),
]


@pytest.mark.parametrize(("answer", "fragments"), BROKEN, ids=range(len(BROKEN)))
def test_a_mistake_is_told_what_is_wrong(answer, fragments):
    feedback = check_best_step(answer)
    assert not feedback.ok
    for fragment in fragments:
        assert fragment in feedback.message, feedback.message
    assert feedback.message[-1] in ".?" and "\n" not in feedback.message  # one sentence


@pytest.mark.parametrize("answer", [lambda A: {"lr": best_step(A)[0], "rate": best_step(A)[1]},
                                    lambda A: best_step(A)[0]], ids=["dict", "one-number"])
def test_the_wrong_shape_of_answer_is_told_what_to_return(answer):
    """Two answers, not the new state of one: no "new" in the message."""
    message = check_best_step(answer).message
    assert "it should return 2 values, as in `return lr, rate`." in message
    assert "new" not in message


def test_no_learner_function_crashes_the_checker():
    for answer in [lambda A: A, lambda A: {"lr": 1}, lambda A: (1, 2, 3), lambda A: [[1, 2]],
                   lambda A: np.zeros((2, 2)), lambda A: (np.ones(3), 0.5), lambda A: (1j, 0.5),
                   lambda A: iter([1, 2]), lambda A: (True, False), print, 42]:
        feedback = check_best_step(answer)  # never raises
        assert not feedback.ok and feedback.message[-1] in ".?"


def best_step_2x2(A):
    """The chapter's two-curvature derivation with a 2 x 2 closed form for the eigenvalues."""
    a, b, d = A[0, 0], A[0, 1], A[1, 1]
    mean, half = (a + d) / 2, np.sqrt(((a - d) / 2) ** 2 + b**2)
    L, mu = mean + half, mean - half
    return 2 / (L + mu), (L - mu) / (L + mu)


def test_an_answer_for_2x2_matrices_only_is_shown_the_3x3_case_it_fails():
    message = check_best_step(best_step_2x2).message
    assert message.startswith("Your `lr` is wrong on case 2 (A is 3 × 3, with eigenvalues 0.5, 2, "
                              "8) by 0.031: expected 0.2353, got 0.2047")
