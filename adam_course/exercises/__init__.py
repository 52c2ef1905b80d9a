"""Checkers for the coding exercises: run the learner's function against the reference.

Each checker calls the learner's function on a few seeded cases (shapes ``(1,)``, ``(3,)``,
``(2, 3)``, varied hyperparameters), several consecutive steps each with the function's own
outputs fed back in, and answers with a one-sentence :class:`Feedback` that names the failing
case, so that it can be reproduced, and the cause::

    check_gd_step(lambda x, grad, lr: x + lr * grad)
    # ❌ Your `x` is wrong on the first call (x of shape (1,), gradients of about 1, lr = 0.1)
    #    by 0.16: expected 0.2634, got 0.4277 — it matches a step uphill: gradient descent
    #    subtracts, `x - lr * grad`.

A checker never raises into the learner's kernel, whatever the function does (it may raise,
return None, a list, the wrong shape, nan, change its inputs in place, or never return: a call
is stopped after ``engine.TIME_LIMIT`` seconds); only ``KeyboardInterrupt`` and ``SystemExit``
get through. The references, and the known mistakes that are variants of an optimizer, are the
tested updates of :mod:`adam_course.optim`, so an exercise checks against the same code the
book then uses.

The package, one module per responsibility:

- :mod:`~adam_course.exercises.engine` -- calling the learner's function with a time limit,
  reading what it returned, the one precision policy, the one wording of messages, the guard
  that never lets a checker crash; :func:`check_steps`, on which most checkers are built
- one module per chapter, named as its notebook, with that chapter's checkers:
  ``ch1_gradient_descent`` (:func:`check_gd_step`, :func:`check_best_step`), ``ch2_sgd``
  (:func:`check_minibatch_gradient`, :func:`check_mean_square_limit`), ``ch3_momentum``
  (:func:`check_momentum_step`, :func:`check_nesterov_step`), ``ch4_adagrad_rmsprop``
  (:func:`check_rmsprop_step`, :func:`check_torch_eps`), ``ch5_adam`` (:func:`check_adam_step`,
  :func:`adam_step_bound`), ``ch6_bias_correction`` (:func:`check_adam_stream`,
  :func:`check_bias_corrected_ema`, :func:`check_masked_ema`), ``ch7_adam_on_a_network``
  (:func:`check_warmup_cosine`), ``ch8_beyond_adam`` (:func:`check_keras_rmsprop_port`)

A new checker goes into its chapter's module and is listed in ``__all__`` here; a notebook
uses it as ``exercises.check_...``.
"""

from adam_course.exercises.ch1_gradient_descent import check_best_step, check_gd_step
from adam_course.exercises.ch2_sgd import check_mean_square_limit, check_minibatch_gradient
from adam_course.exercises.ch3_momentum import check_momentum_step, check_nesterov_step
from adam_course.exercises.ch4_adagrad_rmsprop import check_rmsprop_step, check_torch_eps
from adam_course.exercises.ch5_adam import adam_step_bound, check_adam_step
from adam_course.exercises.ch6_bias_correction import (
    check_adam_stream,
    check_bias_corrected_ema,
    check_masked_ema,
)
from adam_course.exercises.ch7_adam_on_a_network import check_warmup_cosine
from adam_course.exercises.ch8_beyond_adam import check_keras_rmsprop_port
from adam_course.exercises.engine import Case, Feedback, check_steps

__all__ = [
    "Feedback", "Case", "check_steps",
    "check_gd_step", "check_best_step", "check_minibatch_gradient", "check_mean_square_limit",
    "check_momentum_step", "check_nesterov_step", "check_rmsprop_step", "check_torch_eps",
    "check_adam_step", "adam_step_bound", "check_adam_stream", "check_bias_corrected_ema",
    "check_masked_ema", "check_warmup_cosine", "check_keras_rmsprop_port",
]
