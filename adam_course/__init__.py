"""adam_course: the tested companion package of *From SGD to Adam*.

Every chapter imports it. Plain numpy; each optimizer gives the same numbers as ``torch.optim``.
One line per module:

- :mod:`adam_course.optim` -- the optimizers: ema, bias_correction, each one's update
  (``adam_update`` is Adam), from_update, the factories (``adam``, ...), minimize
- :mod:`adam_course.catalog` -- one record per optimizer: factory, label, look, explorer knobs
- :mod:`adam_course.checks` -- argument checks, one wording ("Invalid lr: -1.0 (must be ...)")
- :mod:`adam_course.landscapes` -- test functions with exact gradients
- :mod:`adam_course.plotting` -- one look per optimizer (from the catalog), contours, curves
- :mod:`adam_course.rates` -- closed-form convergence rates on a quadratic (chapter 3)
- :mod:`adam_course.sweeps` -- a grid of hyperparameters as one batch of runs, its heat map
- :mod:`adam_course.data` -- data sets: synthetic regression and classification, the digits
- :mod:`adam_course.nn` -- a small MLP with backpropagation written out by hand
- :mod:`adam_course.exercises` -- friendly checkers for the coding exercises
- :mod:`adam_course.widgets` -- the explorers of chapters 1 and 3-5, and their rendering
- :mod:`adam_course.noise` -- chapter 2's noisy runs on the hump and their explorers
- :mod:`adam_course.bias` -- chapter 6's moments of a gradient stream and their explorers
"""

__version__ = "0.1.0"
