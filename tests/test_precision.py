"""Chapter 8's 16-bit arithmetic against torch: bfloat16 rounding on every kind of value, and
Adam with every stored number rounded against torch.optim.Adam run in float16 and bfloat16."""

import numpy as np
import pytest
import torch  # test dependency (requirements-test.txt): missing torch fails, never skips

from adam_course import optim
from adam_course.precision import FORMATS, adam_rounded, bfloat16

TORCH_DTYPE = {"float16": torch.float16, "bfloat16": torch.bfloat16}


def torch_adam(fmt, grad, theta0, steps, **kwargs):
    """torch.optim.Adam on params of dtype fmt (its state takes the same dtype): the weights
    after each step and exp_avg_sq after each step, as float64."""
    p = torch.tensor(theta0, dtype=TORCH_DTYPE[fmt])
    opt = torch.optim.Adam([p], foreach=False, **kwargs)
    thetas, vs = [p.double().numpy().copy()], []
    for _ in range(steps):
        p.grad = torch.tensor(grad(p.double().numpy())).to(p.dtype)
        opt.step()
        thetas.append(p.double().numpy().copy())
        vs.append(opt.state[p]["exp_avg_sq"].double().numpy().copy())
    return np.array(thetas), np.array(vs)


def test_bfloat16_rounds_like_torch_on_every_kind_of_value():
    rng = np.random.default_rng(0)
    magnitudes = 10.0 ** rng.integers(-44, 39, 200_000)
    with np.errstate(over="ignore"):
        x = (rng.standard_normal(200_000) * magnitudes).astype(np.float32)
    ties = (np.arange(1, 2**7) * 2**-7 + 1 + 2**-8).astype(np.float32)  # exactly halfway
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 3.3895e38, 3.4e38, -3.4e38,
                        1e-45, -1e-45, 2**-126, 1 - 2**-9, 1 + 2**-8, 1 + 3 * 2**-8],
                       dtype=np.float32)
    x = np.concatenate([x, ties, -ties, special])
    ours = bfloat16(x)
    theirs = torch.from_numpy(x).to(torch.bfloat16).float().numpy()
    assert ours.dtype == np.float32
    np.testing.assert_array_equal(ours, theirs)  # nan == nan here, signs of zero compared too
    numbers = ~np.isnan(x)  # the sign of a nan means nothing
    assert np.array_equal(np.signbit(ours[numbers]), np.signbit(theirs[numbers]))


def test_bfloat16_keeps_every_nan_a_nan():
    # a nan whose payload sits in the low bits would round to inf without the guard
    nans = np.array([0x7F800001, 0xFF800001, 0x7FC00000, 0x7F80FFFF], dtype=np.uint32)
    assert np.all(np.isnan(bfloat16(nans.view(np.float32))))


def test_in_float64_the_rounded_adam_is_the_books_adam():
    c, target = np.array([1.0, 2.0, 4.0]), np.array([0.5, -1.0, 2.0])
    thetas, _ = adam_rounded(lambda x: c * (x - target), np.zeros(3), 50, lr=0.05,
                             betas=(0.8, 0.99), eps=1e-6, weights="float64", state="float64")
    ref = optim.minimize(optim.adam(lr=0.05, betas=(0.8, 0.99), eps=1e-6),
                         lambda x: c * (x - target), np.zeros(3), 50)
    np.testing.assert_allclose(thetas, ref, rtol=1e-13, atol=1e-15)


QUADRATIC = {  # chapter 8's quadratic: weights near 1 with gradients ~1e-4, and near 0.05
    "near 1": (1e-3, np.ones(4), np.array([0.9, 1.1, 0.95, 1.05])),
    "near 0.05": (1.0, np.full(4, 0.05), np.array([0.04, 0.06, 0.045, 0.055])),
}


@pytest.mark.parametrize("fmt, where, eps", [
    ("bfloat16", "near 1", 1e-8), ("bfloat16", "near 0.05", 1e-8),
    ("bfloat16", "near 0.05", 1e-4), ("float16", "near 1", 1e-8), ("float16", "near 1", 1e-4),
    ("float16", "near 0.05", 1e-8),
])
def test_16_bit_adam_takes_torchs_steps_to_the_bit(fmt, where, eps):
    """All-16-bit Adam (weights and state in one format) against torch.optim.Adam with params
    of that dtype, 400 steps: the same weights and the same v at every step."""
    scale, theta0, target = QUADRATIC[where]
    c = scale * np.array([1.0, 2.0, 4.0, 8.0])

    def grad(x):
        return c * (x - target)

    ours, ours_v = adam_rounded(grad, theta0, 400, eps=eps, weights=fmt, state=fmt)
    theirs, theirs_v = torch_adam(fmt, grad, theta0, 400, lr=1e-3, eps=eps)
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(ours_v, theirs_v)


def test_float16_eps_1e_7_throws_the_weights_off_and_1e_4_does_not_in_torch_too():
    """With v underflowed the step is lr / eps times the momentum: 8,400 g for eps = 1e-7."""
    scale, theta0, target = QUADRATIC["near 1"]
    c = scale * np.array([1.0, 2.0, 4.0, 8.0])

    def grad(x):
        return c * (x - target)

    for eps, thrown in [(1e-7, True), (1e-4, False)]:
        ours, _ = adam_rounded(grad, theta0, 400, eps=eps, weights="float16", state="float16")
        theirs, _ = torch_adam("float16", grad, theta0, 400, lr=1e-3, eps=eps)
        for path in (ours, theirs):
            assert (np.abs(path[-1] - target).max() > 3.0) == thrown, eps
            assert np.all(np.isfinite(path))


def test_float16_adams_first_step_is_infinite_exactly_below_the_underflow_of_v():
    """(1 - beta2) g^2 rounds to 0 in float16 when it is below half the smallest subnormal,
    2^-25: |g| < sqrt(2^-25 / float16(0.001)) = 5.458e-3."""
    threshold = np.sqrt(2.0**-25 / float(np.float16(1 - 0.999)))
    assert round(threshold, 6) == 0.005458
    for g, infinite in [(0.99 * threshold, True), (1.01 * threshold, False), (1e-3, True),
                        (1e-2, False)]:
        def grad(x, g=g):
            return np.full_like(x, g)

        ours, _ = adam_rounded(grad, np.zeros(1), 1, weights="float16", state="float16")
        theirs, _ = torch_adam("float16", grad, np.zeros(1), 1, lr=1e-3)
        for first in (ours[1, 0], theirs[1, 0]):
            assert np.isinf(first) == infinite, g
            if not infinite:
                assert -1e-3 <= first < -0.5e-3  # a step of about lr, not more


@pytest.mark.parametrize("beta2, frozen", [(0.999, True), (0.998, True), (0.99, False)])
def test_in_bfloat16_v_never_decays_when_1_minus_beta2_is_below_2_to_the_minus_9(beta2, frozen):
    """beta2 v rounds back to v when (1 - beta2) < 2^-9 = 0.00195 (every v), in torch too:
    a gradient of 1 for 100 steps, then 0.01."""
    def drop():  # a fresh gradient stream: 1 for 100 steps, then 0.01
        calls = []

        def grad(x):
            calls.append(None)
            return np.full_like(x, 1.0 if len(calls) <= 100 else 0.01)
        return grad

    _, ours = adam_rounded(drop(), np.zeros(1), 600, betas=(0.9, beta2), weights="float32",
                           state="bfloat16")
    _, theirs = torch_adam("bfloat16", drop(), np.zeros(1), 600, lr=1e-3, betas=(0.9, beta2))
    for v in (ours[:, 0], theirs[:, 0]):
        after = v[100:]
        assert (np.ptp(after) == 0) == frozen
        if not frozen:
            assert after[-1] < 0.1 * after[0]


def test_bad_formats_and_arguments_raise_a_value_error_naming_them():
    def grad(x):
        return x

    with pytest.raises(ValueError, match="weights"):
        adam_rounded(grad, np.ones(2), 3, weights="float8")
    with pytest.raises(ValueError, match="state"):
        adam_rounded(grad, np.ones(2), 3, state=np.float16)
    with pytest.raises(ValueError, match="steps"):
        adam_rounded(grad, np.ones(2), 0)
    with pytest.raises(ValueError, match="index 1"):
        adam_rounded(grad, np.ones(2), 3, betas=(0.9, 1.0))
    assert set(FORMATS) == {"float64", "float32", "float16", "bfloat16"}
