"""Chapter 7's checker: a linear warm-up followed by a cosine decay."""

from __future__ import annotations

import numpy as np

from adam_course.exercises.engine import (
    Feedback,
    Stop,
    as_array,
    call,
    check_signature,
    close,
    first,
    guarded,
    low_precision,
    num,
    pair,
    returned_none,
    source_mentions,
)

__all__ = ["check_warmup_cosine"]


def check_warmup_cosine(fn) -> Feedback:
    """Check ``fn(t, lr, warmup, total) -> eta_t``: the step size of step ``t = 1, ..., total``
    under a linear warm-up followed by a cosine decay to zero. Chapter 7.

    ::

        eta_t = lr * t / warmup                                                 (t <= warmup)
        eta_t = lr * (1 + cos(pi * (t - warmup) / (total - warmup))) / 2        (t > warmup)

    so the warm-up reaches ``lr`` on step ``warmup`` and the decay reaches 0 on step ``total``.
    ``0 <= warmup < total``: ``warmup = 0`` means no warm-up, ``warmup = total - 1`` leaves one
    step of decay (``warmup = total`` would leave no step to decay on, and is not asked for).
    ``lr`` may be a number or an array of step sizes, one per run (then ``eta_t`` has its
    shape), as ``nn.train``'s ``lr_schedule`` needs. A known mistake is named only when it
    gives the learner's step sizes at every step of every schedule.
    """
    def reference(t, lr, warmup, total):
        if t <= warmup:
            return lr * (t / warmup)
        return lr * 0.5 * (1 + np.cos(np.pi * (t - warmup) / (total - warmup)))

    def variant(ramp=lambda t, w: t / w, decay=None):
        def schedule(t, lr, warmup, total):
            if t <= warmup:
                return lr * ramp(t, warmup)
            return lr * decay(t, warmup, total)
        return schedule

    def cosine(t, warmup, total):
        return 0.5 * (1 + np.cos(np.pi * (t - warmup) / (total - warmup)))

    settings = [(0.1, 10, 50), (3e-3, 100, 340), (np.array([0.01, 0.03, 0.1]), 5, 20),
                (1.0, 0, 12), (0.5, 7, 8)]
    mistakes = [
        (variant(ramp=lambda t, w: (t - 1) / w,
                 decay=lambda t, w, n: 0.5 * (1 + np.cos(np.pi * (t - 1 - w) / (n - w)))),
         "the same schedule with steps counted from 0 (t - 1 in place of t), as Hugging Face's "
         "get_cosine_schedule_with_warmup counts them, whose first step has step size 0: here "
         "t = 1 on the first step, so eta_1 = lr / warmup and eta_total = 0"),
        (variant(ramp=lambda t, w: (t - 1) / w, decay=cosine),
         "a warm-up that starts from 0 on step 1: that step is wasted; the warm-up is "
         "lr * t / warmup with t = 1 on the first step, and reaches lr on step `warmup`"),
        (variant(ramp=lambda t, w: t / (w + 1), decay=cosine),
         "a warm-up that reaches lr one step late: lr * t / warmup is lr on step `warmup`"),
        (variant(decay=lambda t, w, n: 1 + np.cos(np.pi * (t - w) / (n - w))),
         "a cosine without the factor 1/2: the decay must start at lr, not at 2 lr"),
        (variant(decay=lambda t, w, n: 0.5 * (1 + np.cos(np.pi * t / n))),
         "a cosine measured from t = 0 instead of from the end of the warm-up: the step size "
         "drops at once when the warm-up ends; use (t - warmup) / (total - warmup)"),
        (variant(decay=lambda t, w, n: 0.5 * (1 + np.cos(np.pi * (t - w - 1) / (n - w)))),
         "a cosine one step late: on step `total` the step size should be exactly 0"),
        (variant(decay=lambda t, w, n: 0.5 * (1 + np.cos(2 * np.pi * (t - w) / (n - w)))),
         "a full period of the cosine (2 pi), which climbs back to lr at the end: half a "
         "period, pi, takes lr down to 0"),
        (variant(decay=lambda t, w, n: 1 - (t - w) / (n - w)),
         "a linear decay: the exercise asks for (1 + cos(pi * progress)) / 2"),
        (variant(ramp=lambda t, w: 1.0, decay=cosine),
         "no warm-up: during the first `warmup` steps the step size grows as lr * t / warmup"),
    ]
    def run():
        check_signature(fn, ["t", "lr", "warmup", "total"])
        learner = {}  # setting's index -> the learner's schedule (or None: it failed)
        for index, setting in enumerate(settings):
            learner[index] = _schedule(fn, reference, *setting)
            _compare(fn, reference, index, settings, learner, mistakes)

    failure, _ = guarded(run, "schedule")
    if failure is not None:
        return failure
    calls = sum(total for _, _, total in settings)
    return Feedback(True, f"Correct: your warm-up and cosine schedule matches the reference at "
                          f"all {calls} steps of {len(settings)} schedules, one with an array "
                          f"of step sizes, one without warm-up and one with a single step of "
                          f"decay.")


def _setting(lr, warmup, total) -> str:
    shown = ("[" + ", ".join(f"{value:g}" for value in lr) + "]" if isinstance(lr, np.ndarray)
             else f"{lr:g}")
    return f"(lr = {shown}, warmup = {warmup}, total = {total})"


def _compare(fn, reference, index, settings, learner, mistakes):
    """Stop at the first wrong step of schedule ``index``, with the hint of the known mistake
    that gives the learner's step sizes at every step of every schedule."""
    setting = settings[index]
    got, low = learner[index]
    lr, warmup, total = setting
    steps = range(1, total + 1)
    expected = np.array([reference(t, lr, warmup, total) for t in steps], dtype=np.float64)
    wrong = ~close(got, expected)
    if not wrong.any():
        return
    k, *rest = first(wrong)
    e, g = pair(expected[(k, *rest)], got[(k, *rest)])
    message = (f"Your step size is wrong at t = {k + 1} {_setting(*setting)}: expected {e}, "
               f"got {g}")
    if low:
        raise Stop(message + low_precision(low) + ".")
    hint = next((text for mistake, text in mistakes
                 if all(_agrees(mistake, other, _learner(fn, reference, i, other, learner))
                        for i, other in enumerate(settings))), "")
    raise Stop(message + (f" — it matches {hint}" if hint else "") + ".")


def _learner(fn, reference, index, setting, learner):
    """The learner's step sizes on a whole schedule (computed once), or None if it fails."""
    if index not in learner:
        try:
            learner[index] = _schedule(fn, reference, *setting)
        except Stop:
            learner[index] = None
    return learner[index]


def _agrees(mistake, setting, answer) -> bool:
    """Whether ``mistake`` gives the learner's step sizes (``answer``: values and dtype) on a
    whole schedule, or raises where the learner's function failed (``answer`` None)."""
    lr, warmup, total = setting
    try:
        theirs = np.array([mistake(t, lr, warmup, total) for t in range(1, total + 1)],
                          dtype=np.float64)
    except Exception:  # a mistake that does not apply here
        return answer is None
    return answer is not None and theirs.shape == answer[0].shape \
        and bool(np.all(close(answer[0], theirs)))


def _schedule(fn, reference, lr, warmup, total):
    """The learner's step sizes at t = 1..total as a float array (one row per t), and the
    low-precision dtype they came in (or None); Stop on the first step it cannot give."""
    values, low = [], None
    for t in range(1, total + 1):
        value, dtype = _schedule_value(fn, reference, t, lr, warmup, total,
                                       f"at t = {t} {_setting(lr, warmup, total)}")
        values.append(value)
        low = low or dtype
    return np.array(values), low


def _schedule_value(fn, reference, t, lr, warmup, total, where):
    """One call of the learner's schedule, as a float array of lr's shape (or Stop)."""
    try:
        got = call(fn, {"t": t, "lr": lr, "warmup": warmup, "total": total}, where)
    except Stop as stop:
        message = stop.feedback.message.rstrip(".")
        if warmup == 0 and "ZeroDivisionError" in message:
            aside = (" (np.where computes both branches at every step, so test t in an `if` "
                     "instead)") if source_mentions(fn, "where(") else ""
            raise Stop(message + " — with warmup = 0 there is no warm-up: go straight to the "
                       "cosine part" + aside + ".") from None
        if "ZeroDivisionError" in message:
            raise Stop(message + " — the warm-up divides by warmup and the decay by "
                       "total - warmup, which is at least 1 here: compute each only on its own "
                       "steps, t <= warmup and t > warmup.") from None
        if isinstance(lr, np.ndarray) and "truth value" in message:
            raise Stop(message + " — lr can be an array of step sizes, one per run: compute "
                       "with arithmetic and np.cos, and test only t, not lr, in an `if`.") from None
        raise
    if got is None:
        raise Stop(returned_none(where))
    expected = np.asarray(reference(t, lr, warmup, total), dtype=np.float64)
    got, low = as_array("eta_t", got, expected, where)
    if not np.all(np.isfinite(got)):
        raise Stop(f"Your step size is {got.ravel()[0]} {where}, where the reference gives "
                   f"{num(expected.ravel()[0])} — look for a division by zero.")
    return got, low
