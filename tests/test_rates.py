"""adam_course.rates: rates against matrix eigenvalues, brute-force searches and simulations."""

import re

import numpy as np
import pytest

from adam_course import landscapes, optim, rates


def iteration_matrix(lr, momentum, lam, nesterov=False):
    """One step of torch's sgd on f = lam x^2 / 2, as a matrix on the state (x, buffer).

    Written from the update rules (b = mu b + g; x -= lr b, or x -= lr (g + mu b)), not from
    the characteristic polynomial that rates.quadratic_rate uses.
    """
    g = np.array([lam, 0.0])  # g = lam * x as a row acting on (x, b)
    buf = momentum * np.array([0.0, 1.0]) + g
    x_row = np.array([1.0, 0.0]) - lr * (g + momentum * buf if nesterov else buf)
    return np.array([x_row, buf])


# ------------------------------------------------------------------ quadratic_rate

@pytest.mark.parametrize("nesterov", [False, True])
def test_quadratic_rate_is_the_spectral_radius_of_the_iteration_matrix(nesterov):
    rng = np.random.default_rng(0)
    for _ in range(200):
        lr, momentum = rng.uniform(0.01, 0.5), rng.uniform(0.05, 0.99)
        lams = rng.uniform(0.1, 12.0, size=3)
        expected = max(np.abs(np.linalg.eigvals(iteration_matrix(lr, momentum, lam,
                                                                 nesterov))).max()
                       for lam in lams)
        got = rates.quadratic_rate(lr, momentum, lams, nesterov=nesterov)
        assert np.isclose(got, expected, rtol=1e-7, atol=1e-12)


def test_quadratic_rate_without_momentum_is_gd_factor():
    lams = np.array([1.0, 4.0, 10.0])
    for lr in [0.01, 0.1, 0.15, 0.25]:
        assert np.isclose(rates.quadratic_rate(lr, 0.0, lams), np.abs(1 - lr * lams).max())


@pytest.mark.parametrize("lr, momentum, nesterov", [(0.05, 0.5, False), (0.1, 0.9, False),
                                                    (0.1, 0.9, True), (0.15, 0.6, True)])
def test_quadratic_rate_matches_a_simulated_run(lr, momentum, nesterov):
    """Measure the late per-step shrink factor of optim.sgd on a rotated bowl."""
    bowl = landscapes.bowl(curvatures=(1.0, 10.0), angle=0.4)
    opt = optim.sgd(lr=lr, momentum=momentum, nesterov=nesterov)
    n = 300
    path = optim.minimize(opt, bowl.grad, bowl.start, 2 * n)
    d = np.linalg.norm(path, axis=1)
    measured = (d[2 * n - 20:2 * n].max() / d[n - 20:n].max()) ** (1 / n)
    assert np.isclose(measured, rates.quadratic_rate(lr, momentum, bowl.curvatures, nesterov),
                      rtol=0.01)


def test_quadratic_rate_broadcasts_over_runs():
    lr = np.array([0.1, 0.05, 0.3])
    momentum = np.array([0.9, 0.5, 0.0])
    got = rates.quadratic_rate(lr, momentum, [1.0, 10.0])
    assert got.shape == (3,)
    for r in range(3):
        assert got[r] == rates.quadratic_rate(lr[r], momentum[r], [1.0, 10.0])
    assert got[2] > 1  # lr = 0.3 > 2 / L: gradient descent diverges


def test_quadratic_rate_is_heavy_ball_unless_nesterov_is_asked_for():
    lr, momentum, lams = 0.1, 0.6, np.array([1.0, 10.0])

    def radius(nesterov):
        return max(np.abs(np.linalg.eigvals(iteration_matrix(lr, momentum, lam,
                                                             nesterov))).max() for lam in lams)

    assert not np.isclose(radius(False), radius(True))
    assert np.isclose(rates.quadratic_rate(lr, momentum, lams), radius(False), rtol=1e-9)


def test_quadratic_rate_edge_cases_from_the_roots():
    # one curvature, no momentum: the rate is |1 - lr lam|
    assert np.isclose(rates.quadratic_rate(0.1, 0.0, [2.0]), 0.8)
    # lr = 0 takes no step: z^2 - (1 + m) z + m has roots 1 and m, so the rate is 1
    assert rates.quadratic_rate(0.0, 0.5, [1.0, 4.0]) == 1.0
    assert rates.quadratic_rate(0.0, 0.5, [1.0], nesterov=True) == 1.0


# ------------------------------------------------------------------ optimal parameters

def test_gd_optimal_beats_every_other_step_size():
    L, mu = 10.0, 1.0
    lr, rate = rates.gd_optimal(L, mu)
    assert np.isclose(lr, 2 / 11) and np.isclose(rate, 9 / 11)
    grid = np.linspace(0.01, 0.2, 4001)
    worst = np.maximum(np.abs(1 - grid * mu), np.abs(1 - grid * L))
    assert np.isclose(grid[np.argmin(worst)], lr, atol=1e-4)
    assert np.isclose(worst.min(), rate, atol=1e-4)


@pytest.mark.parametrize("kappa", [4.0, 10.0, 100.0])
def test_heavy_ball_optimal_is_polyaks_and_no_nearby_pair_is_faster(kappa):
    L, mu = kappa, 1.0
    lr, momentum, rate = rates.heavy_ball_optimal(L, mu)
    # Polyak (1964): rate (sqrt(kappa) - 1) / (sqrt(kappa) + 1) = sqrt(momentum)
    assert np.isclose(rate, (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1))
    assert np.isclose(rate, np.sqrt(momentum))
    lams = np.linspace(mu, L, 201)

    def spectral_radius(a, m):
        return max(np.abs(np.linalg.eigvals(iteration_matrix(a, m, lam))).max() for lam in lams)

    assert np.isclose(spectral_radius(lr, momentum), rate, rtol=1e-6)
    for factor_lr in (0.97, 1.0, 1.03):
        for shift in (-0.02, 0.0, 0.02):
            a, m = lr * factor_lr, min(momentum + shift, 0.999)
            # the Jordan block at the optimum makes eigvals inaccurate to ~sqrt(machine eps)
            assert spectral_radius(a, m) >= rate - 1e-6


def test_heavy_ball_optimal_uses_the_condition_number_not_the_curvatures():
    """With mu != 1: the optimum depends on kappa = L / mu (Polyak), and on [mu, L] the
    iteration matrix's spectral radius is that rate at every curvature's worst."""
    L, mu = 50.0, 0.5
    lr, momentum, rate = rates.heavy_ball_optimal(L, mu)
    assert np.isclose(rate, (10 - 1) / (10 + 1))  # sqrt(kappa) = sqrt(100) = 10
    assert np.isclose(lr, 4 / (np.sqrt(L) + np.sqrt(mu)) ** 2)
    radius = max(np.abs(np.linalg.eigvals(iteration_matrix(lr, momentum, lam))).max()
                 for lam in np.linspace(mu, L, 101))
    assert np.isclose(radius, rate, rtol=1e-6)


def test_heavy_ball_beats_gd_by_about_sqrt_kappa_in_log_rate():
    kappa = np.array([100.0, 1e4, 1e6])
    _, gd_rate = rates.gd_optimal(kappa, 1.0)
    _, _, hb_rate = rates.heavy_ball_optimal(kappa, 1.0)
    speedup = np.log(hb_rate) / np.log(gd_rate)
    assert np.allclose(speedup / np.sqrt(kappa), 1.0, rtol=0.02)


@pytest.mark.parametrize("call, message", [
    (lambda: rates.gd_optimal(1.0, 2.0), "Invalid mu: 2.0 with L = 1.0 "),
    (lambda: rates.gd_optimal(None, 1.0), "Invalid L: nan "),
    (lambda: rates.gd_optimal(1.0, None), "Invalid mu: nan "),
    (lambda: rates.quadratic_rate(None, 0.9, [1.0]), "Invalid lr: nan "),
    (lambda: rates.quadratic_rate(0.1, [0.9, None], [1.0]), "Invalid momentum: nan "),
    (lambda: rates.quadratic_rate(0.1, 0.9, [1.0, None]), "Invalid curvatures: [1.0, None] "),
    (lambda: rates.quadratic_rate(0.1, 0.9, [1.0, np.nan]), "Invalid curvatures: [1.0, nan] "),
    (lambda: rates.quadratic_rate(0.1, 0.9, [0.0, 1.0]), "Invalid curvatures: [0.0, 1.0] "),
    (lambda: rates.quadratic_rate(0.1, 0.9, []), "Invalid curvatures: [] "),
    (lambda: rates.quadratic_rate(0.1, 0.9, [[1.0, 2.0]]), "Invalid curvatures: [[1.0, 2.0]] "),
    (lambda: rates.heavy_ball_optimal(10.0, 0.0), "Invalid mu: 0.0"),
    (lambda: rates.heavy_ball_optimal(np.nan, 1.0), "Invalid L: nan"),
    (lambda: rates.quadratic_rate(-0.1, 0.9, [1.0]), "Invalid lr: -0.1"),
    (lambda: rates.quadratic_rate(0.1, np.inf, [1.0]), "Invalid momentum: inf"),
    (lambda: rates.quadratic_rate(0.1, 0.9, [1.0, -2.0]), "Invalid curvatures: "),
    (lambda: rates.steps_to_tolerance(np.zeros((5, 2)), tol=0), "Invalid tol: 0.0"),
    (lambda: rates.steps_to_tolerance(np.zeros(5)), "Invalid trajectory: shape (5,)"),
    (lambda: rates.steps_to_tolerance(np.zeros((0, 2))), "Invalid trajectory: shape (0, 2)"),
])
def test_bad_arguments_raise_naming_them(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


# ------------------------------------------------------------------ steps_to_tolerance

def test_steps_to_tolerance_on_a_geometric_sequence():
    r = 0.5
    path = (r ** np.arange(40))[:, None] * np.array([[3.0, -4.0]])
    # 0.5^t <= 1e-3 first at t = ceil(log 1e-3 / log 0.5) = 10
    assert rates.steps_to_tolerance(path, tol=1e-3) == int(np.ceil(np.log(1e-3) / np.log(r))) == 10


def test_steps_to_tolerance_waits_until_the_run_stays_inside():
    d = np.array([1.0, 1e-4, 1e-2, 1e-4, 1e-5, 1e-6])
    assert rates.steps_to_tolerance(d[:, None], tol=1e-3) == 3
    assert rates.steps_to_tolerance(d[:, None], tol=1e-1) == 1
    assert rates.steps_to_tolerance(d[:, None], tol=1e-9) == -1  # not there yet
    # inside until the last step, which leaves again: not settled
    assert rates.steps_to_tolerance(np.array([[1.0], [1e-4], [1e-4], [1.0]]), tol=1e-3) == -1


def test_steps_to_tolerance_default_tol_is_one_in_a_million():
    path = (0.5 ** np.arange(40))[:, None]
    # 0.5^t <= 1e-6 first at t = ceil(6 log 10 / log 2) = 20
    assert rates.steps_to_tolerance(path) == int(np.ceil(np.log(1e-6) / np.log(0.5))) == 20


def test_steps_to_tolerance_measures_a_float32_trajectory_in_float64():
    """|x|^2 of x = 1e20 overflows float32 (max 3.4e38): the distances are taken in float64."""
    t = np.arange(12)
    path = ((1e20 * 0.5**t)[:, None] * np.ones((1, 2))).astype(np.float32)
    assert rates.steps_to_tolerance(path, tol=1e-3) == int(np.ceil(np.log(1e-3) / np.log(0.5)))


def test_steps_to_tolerance_returns_an_int_or_an_int_array():
    one = rates.steps_to_tolerance(np.array([[1.0], [0.0]]))
    assert type(one) is int and one == 1
    runs = rates.steps_to_tolerance(np.array([[[1.0], [1.0]], [[0.0], [1.0]]]))
    assert runs.dtype.kind == "i" and runs.tolist() == [1, -1]
    # a single point counts as a trajectory: at the minimum from the start
    assert rates.steps_to_tolerance(np.zeros((1, 2))) == 0


def test_steps_to_tolerance_per_run_with_minimum_and_divergence():
    t = np.arange(60)[:, None]
    x = np.stack([0.5**t, 0.9**t, np.where(t < 5, 2.0**t, np.nan), 0 * t],
                 axis=1)  # (60, 4, 1); the last run starts at the minimum
    path = np.concatenate([x, x], axis=-1) + 7.0  # (60, 4, 2), minimum at (7, 7)
    got = rates.steps_to_tolerance(path, tol=1e-2, minimum=np.array([7.0, 7.0]))
    expected = [int(np.ceil(np.log(1e-2) / np.log(0.5))), int(np.ceil(np.log(1e-2) / np.log(0.9))),
                -1, 0]
    assert got.tolist() == expected
    assert rates.steps_to_tolerance(np.zeros((4, 2))) == 0  # started at the minimum


def test_steps_to_tolerance_of_polyak_momentum_grows_like_sqrt_kappa():
    """A batched simulation: one run per kappa, torch's heavy ball with Polyak's parameters."""
    kappas = np.array([100.0, 400.0, 1600.0])
    A = np.stack([np.diag([1.0, k]) for k in kappas])
    lr, momentum, _ = rates.heavy_ball_optimal(kappas, 1.0)
    path = optim.minimize(optim.sgd(lr=lr, momentum=momentum),
                          lambda x: np.einsum("rij,rj->ri", A, x), np.ones((3, 2)), 1500)
    steps = rates.steps_to_tolerance(path, tol=1e-6)
    assert np.all(steps > 0)
    ratios = steps[1:] / steps[:-1]  # kappa x4 -> steps x about 2 (sqrt), not x4
    assert np.all((ratios > 1.7) & (ratios < 2.3))
