"""Chapter 8's checker: port a Keras RMSprop configuration to an ``optim.rmsprop`` call.

The right answer is checked by what it is for: its steps equal those of Keras's RMSprop as
keras/src/optimizers/rmsprop.py (keras-team/keras at commit 3422977a5e38) computes them, written
out here on their own, not through the package.
"""

import numpy as np
import pytest

from adam_course import optim
from adam_course.exercises import Feedback, check_keras_rmsprop_port


def port(learning_rate, rho, momentum, epsilon):
    return optim.rmsprop(lr=learning_rate, alpha=rho, eps=0.0, eps_root=epsilon,
                         momentum=momentum)


def keras_rmsprop_steps(x, grads, learning_rate, rho, momentum, epsilon):
    """Keras 3's RMSprop.update_step, with its momentum buffer holding lr * g / sqrt(v + eps)."""
    velocity, buf, out = np.zeros_like(x), np.zeros_like(x), [x]
    for g in grads:
        velocity = rho * velocity + (1 - rho) * g**2
        increment = learning_rate * g / np.sqrt(velocity + epsilon)
        buf = momentum * buf + increment if momentum > 0 else increment
        x = x - buf
        out.append(x)
    return np.array(out)


def test_the_right_answer_passes():
    feedback = check_keras_rmsprop_port(port)
    assert isinstance(feedback, Feedback) and feedback.ok, feedback.message
    assert feedback.message == ("Correct: your optimizer takes Keras's RMSprop steps in all 4 "
                                "configurations, 30 steps each.")


@pytest.mark.parametrize("config", [(0.001, 0.9, 0.0, 1e-7), (0.02, 0.8, 0.9, 1e-5)])
def test_the_right_answer_takes_keras_steps(config):
    rng = np.random.default_rng(4)
    grads = np.sqrt(config[-1]) * rng.standard_normal((40, 5))
    x0 = rng.standard_normal(5)
    opt = port(*config)
    x, state, ours = x0, opt.init(x0), [x0]
    for g in grads:
        x, state = opt.step(x, g, state)
        ours.append(x)
    np.testing.assert_allclose(ours, keras_rmsprop_steps(x0, grads, *config), rtol=1e-12)


SLIPS = [
    (lambda learning_rate, rho, momentum, epsilon: optim.rmsprop(
        lr=learning_rate, alpha=rho, eps=epsilon, momentum=momentum),
     ["ε outside the root", "eps=0.0, eps_root=epsilon"]),
    (lambda learning_rate, rho, momentum, epsilon: optim.rmsprop(
        lr=learning_rate, alpha=rho, eps=np.sqrt(epsilon), momentum=momentum),
     ["at step 1 for RMSprop(learning_rate=0.001, rho=0.9, momentum=0, epsilon=1e-07)",
      "`eps=sqrt(epsilon)` outside the root, chapter 4's approximation",
      "`eps_root=epsilon` (with `eps=0.0`)"]),
    (lambda learning_rate, rho, momentum, epsilon: optim.rmsprop(
        lr=learning_rate, alpha=rho, eps_root=epsilon, momentum=momentum),
     ["default `eps=1e-8`"]),
    (lambda learning_rate, rho, momentum, epsilon: optim.rmsprop(
        lr=learning_rate, alpha=rho, eps=epsilon, eps_root=epsilon, momentum=momentum),
     ["both inside and outside"]),
    (lambda learning_rate, rho, momentum, epsilon: optim.rmsprop(
        lr=learning_rate, alpha=1 - rho, eps=0.0, eps_root=epsilon, momentum=momentum),
     ["`alpha = 1 - rho`"]),
    (lambda learning_rate, rho, momentum, epsilon: optim.rmsprop(
        lr=learning_rate, eps=0.0, eps_root=epsilon, momentum=momentum),
     ["default `alpha=0.99`"]),
    (lambda learning_rate, rho, momentum, epsilon: optim.rmsprop(
        lr=learning_rate, alpha=rho, eps=0.0, eps_root=epsilon),
     ["no momentum", "momentum=0.9"]),
    (lambda learning_rate, rho, momentum, epsilon: optim.rmsprop(
        alpha=rho, eps=0.0, eps_root=epsilon, momentum=momentum),
     ["default step size"]),
    (lambda learning_rate, rho, momentum, epsilon: optim.rmsprop(
        lr=learning_rate, alpha=rho, eps=0.0, eps_root=epsilon, momentum=momentum,
        centered=True),
     ["centered"]),
    (lambda learning_rate, rho, momentum, epsilon: optim.adam(lr=learning_rate),
     ["leaves Keras's path", "compare each argument"]),
    (lambda learning_rate, rho, momentum, epsilon: "RMSprop", ["returned a str",
                                                              "optim.rmsprop(...)"]),
    (lambda learning_rate, rho, momentum, epsilon: None, ["returned None", "`return`"]),
    (lambda learning_rate, rho: None, ["should take 4 arguments"]),
    (lambda learning_rate, rho, momentum, epsilon: optim.rmsprop(lr=-learning_rate),
     ["raised ValueError", "Invalid learning rate"]),
    ("optim.rmsprop", ["That is a str, not a function"]),
]


@pytest.mark.parametrize("fn, fragments", SLIPS, ids=range(len(SLIPS)))
def test_each_slip_gets_its_message(fn, fragments):
    feedback = check_keras_rmsprop_port(fn)
    assert not feedback.ok
    for fragment in fragments:
        assert fragment in feedback.message, feedback.message
    assert feedback.message.count(". ") == 0 or "e.g." in feedback.message  # one sentence


def test_a_not_implemented_stub_and_an_optimizer_that_breaks_are_reported_not_raised():
    def stub(learning_rate, rho, momentum, epsilon):
        raise NotImplementedError

    assert "Not implemented yet" in check_keras_rmsprop_port(stub).message

    class Broken:
        def init(self, params):
            return None

        def step(self, params, grads, state):
            raise ZeroDivisionError("oops")

    message = check_keras_rmsprop_port(lambda learning_rate, rho, momentum, epsilon: Broken())
    assert "raised ZeroDivisionError: oops when it stepped" in message.message

    class WrongShape(Broken):
        def step(self, params, grads, state):
            return np.zeros(2), state

    message = check_keras_rmsprop_port(lambda learning_rate, rho, momentum, epsilon: WrongShape())
    assert "another shape" in message.message


def test_a_mistake_is_named_only_if_it_takes_the_learners_steps_in_every_configuration():
    """Leaving out momentum is the learner's answer in the configurations with momentum, but
    not when a wrong alpha comes with it only there: then no mistake is named."""
    def no_momentum(learning_rate, rho, momentum, epsilon):
        return port(learning_rate, rho, 0.0, epsilon)

    assert "it matches no momentum" in check_keras_rmsprop_port(no_momentum).message

    def no_momentum_and_wrong_alpha_with_it(learning_rate, rho, momentum, epsilon):
        return port(learning_rate, rho if momentum == 0 else 0.99, 0.0, epsilon)

    message = check_keras_rmsprop_port(no_momentum_and_wrong_alpha_with_it).message
    assert "at step 1 for RMSprop(learning_rate=0.01, rho=0.9, momentum=0.9" in message
    assert "it matches" not in message and "compare each argument" in message
