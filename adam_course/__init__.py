"""adam_course: the tested companion package of *From SGD to Adam*.

Every chapter imports it. Plain numpy; each optimizer gives the same numbers as ``torch.optim``.

- :mod:`adam_course.optim` -- the optimizers, built from small pieces (chapters 1-8)
- :mod:`adam_course.landscapes` -- test functions with exact gradients
- :mod:`adam_course.plotting` -- one style and one colour per optimizer
- :mod:`adam_course.widgets` -- the interactive explorers and their static counterparts
- :mod:`adam_course.exercises` -- friendly checkers for the coding exercises
- :mod:`adam_course.data`, :mod:`adam_course.nn` -- data sets and the small MLP of chapter 7
"""

__version__ = "0.1.0"
