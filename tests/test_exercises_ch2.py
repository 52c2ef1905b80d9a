"""Chapter 2's coding exercise `ms_limit(x, B)`: SGD's mean-square stability limit on a
one-feature least-squares problem. The checker's reference against independent ones (every batch
enumerated, and simulated second moments), right answers in several forms, each typical mistake
with its own hint, and no crash whatever the learner does.
"""

from itertools import combinations

import numpy as np
import pytest

from adam_course.exercises import check_mean_square_limit, check_minibatch_gradient, engine

# --- a right answer, written from the formula ---------------------------------------------------


def ms_limit(x, B):
    n = len(x)
    lam = np.mean(x**2)
    var_h = np.mean((x**2 - lam) ** 2) / B * (n - B) / (n - 1)
    return 2 * lam / (lam**2 + var_h)


@pytest.mark.parametrize("answer", [ms_limit, lambda x, B: np.array([ms_limit(x, B)]),
                                    lambda x, B: [ms_limit(x, B)],
                                    lambda x, B: float(ms_limit(x, B))],
                         ids=["numpy-float", "size-1-array", "list-of-one", "float"])
def test_right_answers_pass(answer):
    feedback = check_mean_square_limit(answer)
    assert feedback.ok, feedback.message
    assert feedback.message == ("Correct: your mean-square stability limit matches the reference "
                                "on 5 cases.")


# --- the reference itself, against independent ones ---------------------------------------------


def enumerated_limit(x, B):
    """The root of E[(1 - lr h_B)^2] = 1 with the expectation over every batch of size B."""
    h = np.array([np.mean(x[list(batch)] ** 2) for batch in combinations(range(len(x)), B)])
    # E[(1 - lr h)^2] - 1 = lr (lr E[h^2] - 2 E[h]): the positive root
    return 2 * h.mean() / np.mean(h**2)


def recorded_cases():
    seen = []

    def record(x, B):
        seen.append((x.copy(), B))
        return ms_limit(x, B)

    assert check_mean_square_limit(record)
    return seen


@pytest.mark.parametrize(("n", "B"), [(5, 1), (6, 2), (7, 3), (8, 4), (9, 9)])
def test_the_formula_is_the_enumerated_limit(n, B):
    x = np.random.default_rng(n).normal(size=n)
    assert np.isclose(ms_limit(x, B), enumerated_limit(x, B))


def test_the_cases_include_small_populations_where_the_factor_matters():
    cases = recorded_cases()
    assert len(cases) == 5
    assert any(B == len(x) for x, B in cases)  # B = n: the limit is 2/lambda
    small = [(x, B) for x, B in cases if len(x) <= 20 and 1 < B < len(x)]
    assert small
    for x, B in small:  # here the finite-population factor changes the answer visibly
        with_replacement = 2 * np.mean(x**2) / (np.mean(x**2) ** 2 + np.var(x**2) / B)
        assert abs(with_replacement / ms_limit(x, B) - 1) > 0.01
        if len(x) <= 8:
            assert np.isclose(ms_limit(x, B), enumerated_limit(x, B))


def test_the_second_moment_is_bounded_below_the_limit_and_grows_above_it():
    """Iterate the exact second-moment recursion v <- E[(1 - lr h_B)^2] v + lr^2 c, with the
    expectation taken over every batch of a small population (no formula for the variance)."""
    x = np.random.default_rng(1).exponential(size=7)
    for B in (1, 3):
        h = np.array([np.mean(x[list(b)] ** 2) for b in combinations(range(7), B)])
        limit = ms_limit(x, B)
        for factor, bounded in [(0.98, True), (1.02, False)]:
            v, lr = 0.0, factor * limit
            for _ in range(3000):
                v = np.mean((1 - lr * h) ** 2) * v + lr**2
            assert (v < 1e6) == bounded, (B, factor, v)


# --- each typical mistake gets its own hint -----------------------------------------------------


def mistake(fpc=True, ddof=0, spread="x2", per_batch=True, numerator=True, factor=2.0,
            mean_square=True):
    def answer(x, B):
        n = len(x)
        lam = np.mean(x**2)
        var = np.var(x if spread == "x" else x**2, ddof=ddof)
        var_h = var / B if per_batch else var
        if fpc:
            var_h = var_h * (n - B) / (n - 1)
        second = lam**2 + var_h if mean_square else var_h
        return factor * (lam if numerator else 1.0) / second
    return answer


def mutating(x, B):
    x **= 2
    return ms_limit(np.sqrt(x), B)


BROKEN = [
    (lambda x, B: 2 / np.mean(x**2), ["`limit` is wrong on the first call", "2/lam",
                                      "only keeps the mean stable"]),
    (mistake(fpc=False), ["with replacement", "(n - B)/(n - 1)"]),
    (mistake(spread="x"), ["the variance of x", "`x**2`"]),
    (mistake(ddof=1), ["sample variance (ddof=1)"]),
    (mistake(per_batch=False), ["a single x_i^2"]),
    (mistake(per_batch=False, fpc=False), ["2 lam / mean(x**4)", "one example per step"]),
    (lambda x, B: 2 * np.mean(x**2) / np.mean(x**4), ["one example per step, whatever B"]),
    (lambda x, B: 2 * np.mean(x**2) / (np.mean(x**4) / B),
     ["`limit` is wrong on the first call (n = 8 numbers, B = 3)", "E[h_B^2] = mean(x**4)/B",
      "cross terms"]),
    (lambda x, B: 1 / np.mean(x**2), ["1/lam", "E[(1 - lr h_B)^2] reaches 1"]),
    (mistake(numerator=False), ["2/E[h_B^2]"]),
    (mistake(factor=1.0), ["half the limit"]),
    (mistake(mean_square=False), ["Var(h_B) in place of E[h_B^2]"]),
    (lambda x, B: None, ["returned None"]),
    (lambda x: 1.0, ["should take 2 arguments (x, B)"]),
    (lambda x, B: np.full(3, ms_limit(x, B)), ["returned an array of shape (3,)"]),
    (lambda x, B: np.inf, ["`limit` is inf"]),
    (lambda x, B: 1 / 0, ["raised ZeroDivisionError"]),
    (mutating, ["changed its argument `x` in place"]),
    (lambda x, B: (_ for _ in ()).throw(NotImplementedError()), ["Not implemented yet"]),
    (1.6, ["not a function"]),
]


@pytest.mark.parametrize(("answer", "fragments"), BROKEN, ids=range(len(BROKEN)))
def test_a_mistake_is_told_what_is_wrong(answer, fragments):
    feedback = check_mean_square_limit(answer)
    assert not feedback.ok
    for fragment in fragments:
        assert fragment in feedback.message, feedback.message
    assert feedback.message[-1] in ".?" and "\n" not in feedback.message  # one sentence


def test_no_learner_function_crashes_the_checker():
    for answer in [lambda x, B: x, lambda x, B: {"limit": 1}, lambda x, B: (1.0, 2.0),
                   lambda x, B: "1.6", lambda x, B: 1j, lambda x, B: iter([1]), print, None]:
        feedback = check_mean_square_limit(answer)  # never raises
        assert not feedback.ok and feedback.message[-1] in ".?"


def test_the_minibatch_gradient_hint_names_the_batch_loss():
    """The exercise's loss is 1/(2B) ||X w - y||^2: the hint for a doubled gradient says so."""
    message = check_minibatch_gradient(lambda w, X, y: 2 * X.T @ (X @ w - y) / len(y)).message
    assert "the 1/2 in 1/(2B) cancels the 2" in message and "1/(2n)" not in message


def test_enumerating_every_batch_is_told_the_largest_case_has_too_many(monkeypatch):
    """The chapter's own brute force, right on small cases, cannot finish n = 1000, B = 10: the
    time-out says how many batches that is, not that a loop never ends."""
    def brute_force(x, B):  # every batch, in plain Python: no memory grows while it runs
        squares = [float(v) ** 2 for v in x]
        total = total_sq = count = 0.0
        for batch in combinations(range(len(x)), B):
            h = sum(squares[i] for i in batch) / B
            total, total_sq, count = total + h, total_sq + h * h, count + 1
        return 2 * (total / count) / (total_sq / count)

    monkeypatch.setattr(engine, "TIME_LIMIT", 0.5)
    message = check_mean_square_limit(brute_force).message
    assert message == ("Your function did not return within 0.5 seconds on case 5 (n = 1000 "
                       "numbers, B = 10), so the checker stopped it — enumerating every batch "
                       "would take C(1000, 10) = 2.6e+23 of them: use the formula for the "
                       "variance of h_B instead.")
