"""Chapter 7's checker: a linear warm-up followed by a cosine decay.

The right answer is checked against torch.optim.lr_scheduler (LinearLR then CosineAnnealingLR,
chained by SequentialLR, whose counter starts at 0 on the first step) and against the shape's
defining values; every slip the checker names is planted here and must get its own message.
"""

import numpy as np
import pytest
import torch  # test dependency (requirements-test.txt): missing torch fails, never skips

from adam_course.exercises import check_warmup_cosine


def warmup_cosine(t, lr, warmup, total):
    if t <= warmup:
        return lr * t / warmup
    return lr * 0.5 * (1 + np.cos(np.pi * (t - warmup) / (total - warmup)))


def vectorised(t, lr, warmup, total):  # another right answer: no `if`, works for warmup = 0
    ramp = min(1.0, t / warmup) if warmup else 1.0
    progress = max(t - warmup, 0) / (total - warmup) if total > warmup else 0.0
    return lr * ramp * 0.5 * (1 + np.cos(np.pi * progress))


def torch_schedule(lr, warmup, total):
    """The step sizes torch uses on steps 1..total: LinearLR over the warm-up, then
    CosineAnnealingLR down to 0. torch's counter is k = t - 1 and its cosine starts one
    scheduler step after the warm-up's last, so the warm-up is given warmup + 1 iterations
    from 0 and the cosine total - warmup; step 1 of torch is the reference's step 0, cut off."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=lr)
    first = torch.optim.lr_scheduler.LinearLR(opt, start_factor=1e-300, end_factor=1.0,
                                              total_iters=warmup)
    second = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total - warmup, eta_min=0.0)
    chained = torch.optim.lr_scheduler.SequentialLR(opt, [first, second], milestones=[warmup])
    rates = []
    for _ in range(total + 1):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        chained.step()
    return np.array(rates[1:])  # torch's k = 0 is t = 0 (step size 0); t = 1 ... total follow


@pytest.mark.parametrize("lr, warmup, total", [(0.1, 10, 50), (3e-3, 100, 340), (1.0, 3, 7)])
def test_the_reference_is_torchs_linear_then_cosine_schedule(lr, warmup, total):
    ours = np.array([warmup_cosine(t, lr, warmup, total) for t in range(1, total + 1)])
    np.testing.assert_allclose(ours, torch_schedule(lr, warmup, total), rtol=1e-12, atol=1e-15)
    assert ours[warmup - 1] == pytest.approx(lr) and abs(ours[-1]) < 1e-15
    middle = warmup + (total - warmup) / 2  # halfway through the decay: lr / 2
    assert warmup_cosine(middle, lr, warmup, total) == pytest.approx(lr / 2)


def strict(t, lr, warmup, total):  # `t < warmup`: the same values, since step W gives lr both ways
    if t < warmup:
        return lr * t / warmup
    return lr * 0.5 * (1 + np.cos(np.pi * (t - warmup) / (total - warmup)))


def with_where(t, lr, warmup, total):  # np.where, guarded against warmup = 0
    return np.where(t <= warmup, lr * t / max(warmup, 1e-300),
                    lr * 0.5 * (1 + np.cos(np.pi * (t - warmup) / (total - warmup))))


@pytest.mark.parametrize("fn", [warmup_cosine, vectorised, strict, with_where],
                         ids=["if", "vectorised", "strict", "np.where"])
def test_right_answers_pass(fn):
    feedback = check_warmup_cosine(fn)
    assert feedback.ok, feedback.message
    assert feedback.message.startswith("Correct: your warm-up and cosine schedule matches the "
                                       "reference at all 430 steps of 5 schedules")


def cosine_part(t, w, n):
    return 0.5 * (1 + np.cos(np.pi * (t - w) / (n - w)))


def slip(ramp, decay):
    return lambda t, lr, w, n: lr * (ramp(t, w) if t <= w else decay(t, w, n))


SLIPS = [
    (slip(lambda t, w: (t - 1) / w, lambda t, w, n: cosine_part(t - 1, w, n)),
     ["at t = 1", "expected 0.0100, got 0.0", "counted from 0", "Hugging Face"]),
    (slip(lambda t, w: (t - 1) / w, cosine_part), ["starts from 0 on step 1"]),
    (slip(lambda t, w: t / (w + 1), cosine_part), ["one step late: lr * t / warmup"]),
    (slip(lambda t, w: t / w, lambda t, w, n: 2 * cosine_part(t, w, n)), ["factor 1/2"]),
    (slip(lambda t, w: t / w, lambda t, w, n: 0.5 * (1 + np.cos(np.pi * t / n))),
     ["at t = 11", "measured from t = 0"]),
    (slip(lambda t, w: t / w, lambda t, w, n: cosine_part(t - 1, w, n)),
     ["cosine one step late", "exactly 0"]),
    (slip(lambda t, w: t / w, lambda t, w, n: 0.5 * (1 + np.cos(2 * np.pi * (t - w) / (n - w)))),
     ["full period"]),
    (slip(lambda t, w: t / w, lambda t, w, n: 1 - (t - w) / (n - w)), ["a linear decay"]),
    (slip(lambda t, w: 1.0, cosine_part), ["no warm-up"]),
    (lambda t, lr, w, n: lr * min(1.0, t / w), ["at t = 11", "expected 0.0998, got 0.1000"]),
    (lambda t, lr, w, n: max(lr * t / w, 0.0) if t <= w else warmup_cosine(t, lr, w, n),
     ["truth value", "lr = [0.01, 0.03, 0.1]", "test only t, not lr"]),
    (lambda t, lr, w, n: None, ["returned None", "forget the `return`"]),
    (lambda t, lr, w, n: str(lr), ["returned a str for `eta_t`", "should be a number"]),
    (lambda t, lr, w, n: np.array([lr, lr]),
     ["returned an array of shape (2,) for `eta_t` at t = 1 (lr = 0.1, warmup = 10, total = 50)",
      "should be a number"]),
    (lambda t, lr, w, n: np.float32(warmup_cosine(t, lr, w, n)),
     ["wrong at t = 1 (lr = 0.1, warmup = 10, total = 50)", "returns float32 numbers"]),
    (lambda t, lr, w, n: lr * np.nan, ["is nan", "division by zero"]),
    (lambda t, lr, w, n: 1 / 0, ["raised ZeroDivisionError"]),
    (lambda t, lr, w, n: np.where(t <= w, lr * t / w, lr * cosine_part(t, w, n)),  # divides by 0
     ["ZeroDivisionError", "(lr = 1, warmup = 0, total = 12)", "np.where computes both"]),
    (lambda t, lr, w, n: lr * t / w if t <= w else lr * cosine_part(t, w, w),  # total - warmup
     ["ZeroDivisionError", "at t = 11 (lr = 0.1, warmup = 10, total = 50)",
      "divides by warmup and the decay by total - warmup"]),
    (lambda t, lr, w, n: lr * min(1, t / w) * cosine_part(max(t, w), w, n),
     ["at t = 1 (lr = 1, warmup = 0, total = 12)", "with warmup = 0 there is no warm-up"]),
    (lambda t, lr: lr, ["should take 4 arguments (t, lr, warmup, total)"]),
    (3.0, ["That is a float, not a function"]),
]


@pytest.mark.parametrize("fn, fragments", SLIPS, ids=range(len(SLIPS)))
def test_each_slip_gets_its_message(fn, fragments):
    feedback = check_warmup_cosine(fn)
    assert not feedback.ok
    for fragment in fragments:
        assert fragment in feedback.message, feedback.message


def test_a_slow_function_is_stopped(monkeypatch):
    from adam_course.exercises import engine
    monkeypatch.setattr(engine, "TIME_LIMIT", 0.2)

    def slow(t, lr, warmup, total):
        while True:
            pass

    feedback = check_warmup_cosine(slow)
    assert not feedback.ok and "did not return within 0.2 seconds" in feedback.message


def test_the_np_where_aside_is_only_for_code_that_uses_np_where():
    def with_min(t, lr, warmup, total):  # divides by warmup = 0 too
        return lr * min(1, t / warmup) * cosine_part(max(t, warmup), warmup, total)

    def with_np_where(t, lr, warmup, total):
        return np.where(t <= warmup, lr * t / warmup, lr * cosine_part(t, warmup, total))

    message = check_warmup_cosine(with_min).message
    assert "with warmup = 0 there is no warm-up" in message and "np.where" not in message
    message = check_warmup_cosine(with_np_where).message
    assert "with warmup = 0 there is no warm-up" in message
    assert "np.where computes both branches at every step" in message


def test_a_mistake_is_named_only_if_it_gives_every_schedule():
    """Counting from 0 in the warm-up only (right with warmup = 0, where there is none) is the
    "starts from 0" slip on every schedule; the same slip plus a cosine without its 1/2 from
    lr = 1 on is no known mistake."""
    def from_zero(t, lr, w, n):
        return lr * (t - 1) / w if t <= w else lr * cosine_part(t, w, n)

    assert "starts from 0 on step 1" in check_warmup_cosine(from_zero).message

    def two_slips(t, lr, w, n):
        if np.all(np.asarray(lr) < 1):
            return from_zero(t, lr, w, n)
        return lr * 2 * cosine_part(t, w, n)

    message = check_warmup_cosine(two_slips).message
    assert "at t = 1 (lr = 0.1, warmup = 10, total = 50)" in message and "it matches" not in message
