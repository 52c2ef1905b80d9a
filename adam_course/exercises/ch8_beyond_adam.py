"""Chapter 8's checker: port a Keras RMSprop configuration to an ``optim.rmsprop`` call."""

from __future__ import annotations

import numpy as np

from adam_course import optim
from adam_course.exercises import engine
from adam_course.exercises.engine import (
    LOW_PRECISION,
    Feedback,
    Stop,
    TimedOut,
    call,
    check_signature,
    close,
    describe,
    guarded,
    kind,
    low_precision,
    pair,
    returned_none,
    time_limit,
)

__all__ = ["check_keras_rmsprop_port"]


def check_keras_rmsprop_port(fn) -> Feedback:
    """Check ``fn(learning_rate, rho, momentum, epsilon) -> optimizer``: an ``optim`` optimizer
    that takes the same steps as Keras's ``RMSprop(learning_rate, rho, momentum, epsilon)``.
    Chapter 8.

    Keras 3 (keras/src/optimizers/rmsprop.py) divides by ``sqrt(v + epsilon)``, ε inside the
    root, and its ``rho`` is the decay of v, torch's ``alpha``; so the port is
    ``optim.rmsprop(lr=learning_rate, alpha=rho, eps=0.0, eps_root=epsilon, momentum=momentum)``
    (Keras keeps ``lr`` inside its momentum buffer, torch outside: the same steps while the
    step size is constant). Each case feeds 30 seeded gradients of about ``sqrt(epsilon)``,
    where the place of ε changes every step, and compares the iterates under the checkers' one
    policy (:data:`~adam_course.exercises.engine.RTOL`). A known mistake is named only when it
    takes the learner's steps in every configuration.
    """
    def port(lr, alpha, eps, eps_root, momentum, centered=False):
        return optim.rmsprop(lr=lr, alpha=alpha, eps=eps, eps_root=eps_root, momentum=momentum,
                             centered=centered)

    def right(learning_rate, rho, momentum, epsilon):
        return port(learning_rate, rho, 0.0, epsilon, momentum)

    mistakes = [
        (lambda lr, rho, mu, e: port(lr, rho, e, 0.0, mu), "ε outside the root (`eps=epsilon`),"
         " torch's place: Keras adds it inside, so use `eps=0.0, eps_root=epsilon`"),
        (lambda lr, rho, mu, e: port(lr, rho, np.sqrt(e), 0.0, mu), "`eps=sqrt(epsilon)` "
         "outside the root, chapter 4's approximation, exact only at v = 0 and for v much larger "
         "than epsilon: `eps_root=epsilon` (with `eps=0.0`) puts ε inside the root as Keras "
         "does, exact at every step"),
        (lambda lr, rho, mu, e: port(lr, rho, 1e-8, e, mu), "ε inside the root, but also "
         "torch's default `eps=1e-8` outside it: set `eps=0.0` too"),
        (lambda lr, rho, mu, e: port(lr, rho, e, e, mu), "ε both inside and outside the root: "
         "set torch's `eps=0.0`, and `eps_root=epsilon`"),
        (lambda lr, rho, mu, e: port(lr, 1 - rho, 0.0, e, mu), "`alpha = 1 - rho`: torch's "
         "`alpha` is the decay itself, the weight of the old average, exactly Keras's `rho`"),
        (lambda lr, rho, mu, e: port(lr, 0.99, 0.0, e, mu), "torch's default `alpha=0.99`: "
         "pass Keras's `rho` as `alpha` (Keras's default is 0.9)"),
        (lambda lr, rho, mu, e: port(lr, rho, 0.0, e, 0.0), "no momentum: pass Keras's "
         "`momentum` on to `optim.rmsprop`, which has the same heavy-ball form"),
        (lambda lr, rho, mu, e: port(1e-2, rho, 0.0, e, mu), "torch's default step size "
         "0.01: pass `lr=learning_rate`"),
        (lambda lr, rho, mu, e: port(lr, rho, 0.0, e, mu, centered=True), "the centered "
         "RMSProp: Keras's default `centered=False` is torch's"),
    ]
    cases = [(0.001, 0.9, 0.0, 1e-7), (0.01, 0.9, 0.9, 1e-7), (0.003, 0.95, 0.5, 1e-6),
             (0.1, 0.8, 0.0, 1e-4)]
    rng = np.random.default_rng(12)
    streams = [np.sqrt(e) * (rng.standard_normal((30, 3)) + 0.3) for *_, e in cases]
    names = ("learning_rate", "rho", "momentum", "epsilon")

    def where(case):
        return "for RMSprop(" + ", ".join(f"{k}={v:g}" for k, v in zip(names, case,
                                                                       strict=True)) + ")"

    def learner_path(case, grads):
        """The learner's optimizer on one configuration: its iterates and their dtype."""
        opt = call(fn, dict(zip(names, case, strict=True)), where(case))
        if opt is None:
            raise Stop(returned_none(where(case)))
        if not (callable(getattr(opt, "init", None)) and callable(getattr(opt, "step", None))):
            raise Stop(f"Your function returned {kind(opt)} {where(case)}; it should return "
                       f"an optimizer, such as `optim.rmsprop(...)`.")
        try:
            return _trajectory(opt, grads, where(case))
        except (Stop, TimedOut):
            raise
        except Exception as error:
            raise Stop(f"Your optimizer raised {describe(error)} when it stepped "
                       f"{where(case)}.") from None

    paths = {}

    def learner_everywhere():
        for case, grads in zip(cases, streams, strict=True):
            if case not in paths:
                try:
                    paths[case] = learner_path(case, grads)
                except Stop:
                    paths[case] = None
        return paths

    def agrees(mistake, case, grads, answer) -> bool:
        try:
            theirs, _ = _trajectory(mistake(*case), grads, "")
        except Exception:
            return answer is None
        return answer is not None and bool(np.all(close(answer[0], theirs)))

    def run():
        check_signature(fn, list(names))
        for case, grads in zip(cases, streams, strict=True):
            got, low = paths[case] = learner_path(case, grads)
            expected, _ = _trajectory(right(*case), grads, where(case))
            wrong = ~np.all(close(got, expected), axis=1)
            if not wrong.any():
                continue
            step = int(np.argmax(wrong))
            e, g = pair(expected[step, 0], got[step, 0])
            message = (f"Your optimizer leaves Keras's path at step {step} {where(case)}: "
                       f"expected x[0] = {e}, got {g}")
            if low:
                raise Stop(message + low_precision(low) + ".")
            everywhere = learner_everywhere()
            hint = next((h for m, h in mistakes
                         if all(agrees(m, other, other_grads, everywhere[other])
                                for other, other_grads in zip(cases, streams, strict=True))),
                        "")
            raise Stop(message + (f" — it matches {hint}." if hint else
                                  " — compare each argument with the table of this chapter."))

    failure, _ = guarded(run, "port", when="while stepping")
    if failure is not None:
        return failure
    return Feedback(True, f"Correct: your optimizer takes Keras's RMSprop steps in all "
                          f"{len(cases)} configurations, 30 steps each.")


def _trajectory(opt, grads, where):
    """The iterates of ``opt`` from a fixed start on ``grads``, as float64 (one row per step),
    and the low-precision dtype its params came in (or None)."""
    x = np.array([1.0, -0.5, 0.25])
    low = None
    with time_limit(engine.TIME_LIMIT):  # read now: a test may shorten it
        state, out = opt.init(x), [x]
        for g in grads:
            x, state = opt.step(x, g, state)
            low = low or LOW_PRECISION.get(getattr(x, "dtype", None))
            out.append(np.asarray(x, dtype=np.float64))
    if any(np.shape(p) != (3,) for p in out):
        raise Stop(f"Your optimizer returned params of another shape than it was given "
                   f"{where}.")
    return np.array(out), low
