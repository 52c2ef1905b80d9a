"""Tests for adam_course.checks: the one wording of every bad-argument message.

The rules a message states are checked against what the checks do: a rule that says ``>= 0``
must come with a check that accepts 0, one that says ``(0, 1]`` with one that refuses 0 and
accepts 1. The expected texts are the module docstring's (torch's ``Invalid <what>: <value>``,
then the rule after "must be").
"""

import re

import numpy as np
import pytest

from adam_course import checks

# (lo, hi, lo_open, hi_open) -> the rule, as the module docstring writes it
RULES = [
    ((None, None, False, False), "a finite number"),
    ((0, None, False, False), "a finite number >= 0"),
    ((0, None, True, False), "a finite number > 0"),
    ((None, 1, False, False), "a finite number <= 1"),
    ((None, 1, False, True), "a finite number < 1"),
    ((0, 1, False, False), "a finite number in [0, 1]"),
    ((0, 1, True, False), "a finite number in (0, 1]"),
    ((0, 1, False, True), "a finite number in [0, 1)"),
    ((0, 1, True, True), "a finite number in (0, 1)"),
    ((1e-3, 2.5, False, False), "a finite number in [0.001, 2.5]"),
]


@pytest.mark.parametrize("bounds, rule", RULES, ids=[r for _, r in RULES])
def test_interval_states_the_rule(bounds, rule):
    lo, hi, lo_open, hi_open = bounds
    assert checks.interval(lo, hi, lo_open=lo_open, hi_open=hi_open) == rule


def test_interval_bounds_are_closed_by_default():
    assert checks.interval(0) == "a finite number >= 0"
    assert checks.interval(hi=1) == "a finite number <= 1"
    assert checks.interval(0, 1) == "a finite number in [0, 1]"


@pytest.mark.parametrize("bounds, rule", RULES, ids=[r for _, r in RULES])
@pytest.mark.parametrize("check", [checks.number, checks.per_run])
def test_the_rule_says_what_the_check_does_at_each_bound(bounds, rule, check):
    """A bound is allowed iff the rule says so (>=, <=, [ or ]); the refusal quotes the rule."""
    lo, hi, lo_open, hi_open = bounds
    kwargs = dict(lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open)
    included = {lo: re.search(r">= |\[", rule) is not None,
                hi: re.search(r"<= |\]", rule) is not None}
    for bound, allowed in included.items():
        if bound is None:
            continue
        if allowed:
            assert check(bound, "x", **kwargs) == bound
        else:
            with pytest.raises(ValueError, match=re.escape(f"(must be {rule})")):
                check(bound, "x", **kwargs)


def test_number_bounds_are_closed_by_default_and_it_returns_a_float():
    for bound in (0, 1):
        value = checks.number(bound, "x", lo=0, hi=1)
        assert value == bound and type(value) is float


@pytest.mark.parametrize("value", [True, "0.5", None, 1j, [0.5]], ids=repr)
def test_number_refuses_what_is_not_a_real_number_naming_it_and_its_value(value):
    """A bool is not a number here (lr=True is a mistake), nor a string that float() reads."""
    with pytest.raises(ValueError, match=re.escape(
            f"Invalid learning rate (lr): {value!r} (must be a finite number >= 0)")):
        checks.number(value, "learning rate (lr)", lo=0)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_number_refuses_nan_and_inf_even_without_bounds(value):
    with pytest.raises(ValueError,
                       match=re.escape(f"Invalid x: {value!r} (must be a finite number)")):
        checks.number(value, "x")


def test_integer_takes_numpy_integers_and_its_bounds_and_returns_an_int():
    for value, kwargs in [(np.int64(3), {}), (1, {"lo": 1}), (300, {"lo": 1, "hi": 300}),
                          (-5, {"hi": -5})]:
        result = checks.integer(value, "steps", **kwargs)
        assert result == value and type(result) is int


@pytest.mark.parametrize("value, kwargs, rule", [
    (2.5, {"lo": 1, "hi": 300}, "an integer in [1, 300]"),   # the module docstring's example
    (0, {"lo": 1, "hi": 300}, "an integer in [1, 300]"),
    (301, {"lo": 1, "hi": 300}, "an integer in [1, 300]"),
    (True, {"lo": 0}, "an integer >= 0"),
    (-1, {"lo": 0}, "an integer >= 0"),
    (6, {"hi": 5}, "an integer <= 5"),
    ("3", {}, "an integer"),
])
def test_integer_refuses_naming_the_argument_its_value_and_the_bounds(value, kwargs, rule):
    with pytest.raises(ValueError, match=re.escape(f"Invalid steps: {value!r} (must be {rule})")):
        checks.integer(value, "steps", **kwargs)


def test_choice_returns_the_option_and_refuses_a_lookalike_of_another_type():
    assert checks.choice("m", "correct", ("both", "m")) == "m"
    assert checks.choice(1, "n", [1, 2]) == 1
    for value in (True, 1.0):  # == 1, but not the option 1
        with pytest.raises(ValueError, match=re.escape(f"Invalid n: {value!r} (must be one of")):
            checks.choice(value, "n", (1, 2))
    with pytest.raises(ValueError, match=re.escape("Invalid correct: 'mm' (must be one of "
                                                   "'both', 'm')")):
        checks.choice("mm", "correct", iter(["both", "m"]))  # any iterable of options


def test_flag_takes_python_and_numpy_bools_and_returns_a_bool():
    for value in (True, False, np.bool_(True), np.bool_(False)):
        result = checks.flag(value, "amsgrad")
        assert result == bool(value) and type(result) is bool
    for value in (0, 1, None, "True"):
        with pytest.raises(ValueError, match=re.escape(f"Invalid amsgrad: {value!r} (must be")):
            checks.flag(value, "amsgrad")


def test_per_run_returns_a_float_for_a_number_and_a_float_array_for_runs():
    value = checks.per_run(1, "lr", lo=0)
    assert value == 1.0 and type(value) is float
    for runs in ([0.1, 0.2, 0.3], np.array([[1], [2], [3]]), np.ones((3, 1, 1), dtype=np.int32)):
        arr = checks.per_run(runs, "lr", lo=0)
        assert arr.dtype == np.float64 and arr.shape == np.shape(runs)
        np.testing.assert_array_equal(arr, np.asarray(runs, dtype=float))


@pytest.mark.parametrize("value, shown", [
    (True, "True"), (None, "None"), ("fast", "'fast'"), ([0.1, "x"], "[0.1, 'x']"),
    ([[0.1, 0.2], [0.3, 0.4]], "shape (2, 2)"), (-0.1, "-0.1"), (np.float32(np.nan), "nan"),
])
def test_per_run_refuses_what_is_not_a_value_per_run_naming_it(value, shown):
    with pytest.raises(ValueError,
                       match=re.escape(f"Invalid learning rate (lr): {shown} (must be")):
        checks.per_run(value, "learning rate (lr)", lo=0)


def test_per_run_names_the_first_bad_run_and_its_value():
    with pytest.raises(ValueError, match=re.escape(
            "Invalid beta (b): 1.0 at run 2 (must be a finite number in [0, 1))")):
        checks.per_run([0.5, 0.9, 1.0, -1.0], "beta (b)", lo=0, hi=1, hi_open=True)
    with pytest.raises(ValueError, match=re.escape("Invalid lr: nan at run 1 (must be")):
        checks.per_run(np.array([[0.1], [np.nan]]), "lr", lo=0)
    assert checks.per_run([0.0, 0.5], "beta", lo=0, hi=1, hi_open=True).tolist() == [0.0, 0.5]


def test_finite_names_the_first_bad_entry_and_its_index():
    a = np.array([[1.0, 2.0], [np.inf, np.nan]])
    with pytest.raises(ValueError, match=re.escape(
            "Invalid x0: non-finite value inf at index (1, 0) (must be finite)")):
        checks.finite(a, "x0")
    with pytest.raises(ValueError, match=re.escape(
            "Invalid grads: non-finite value nan at index (2,) (must be finite; lower lr)")):
        checks.finite([0.0, -1.0, np.nan], "grads", "lower lr")
    good = [[1.0, 2.0]]
    np.testing.assert_array_equal(checks.finite(good, "x"), good)
    assert isinstance(checks.finite(good, "x"), np.ndarray)


def test_fail_shows_the_value_with_repr_unless_described():
    with pytest.raises(ValueError, match=re.escape("Invalid name: 'adam' (must be a string)")):
        checks.fail("name", "adam", "a string")
    with pytest.raises(ValueError, match=re.escape("Invalid X: shape (5, 3) (must be (N, 64))")):
        checks.fail("X", checks.described("shape (5, 3)"), "(N, 64)")
