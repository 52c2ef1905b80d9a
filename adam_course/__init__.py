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
  split three ways (chapter 7)
- :mod:`adam_course.precision` -- rounding to bfloat16; Adam with every number rounded to a 16-bit
  format (chapter 8)
- :mod:`adam_course.nn` -- a small MLP with backpropagation written out by hand, many networks
  trained at once on a runs axis (chapter 7)
- :mod:`adam_course.exercises` -- friendly checkers for the coding exercises: a package, its
  engine and one module per chapter
- :mod:`adam_course.picture` -- drawing an explorer: one cached picture redrawn in milliseconds,
  one offline animation (a slider on the site, a sheet of frames in the PDF)
- :mod:`adam_course.playground` -- chapter 5's playground (used from chapter 1): an optimizer's
  trajectory on a 2-D landscape, live and animated
- :mod:`adam_course.hump` -- chapter 2: many noisy SGD runs on the hump, live and animated
- :mod:`adam_course.moments` -- chapter 6: raw and bias-corrected moments of one gradient
  stream, live and animated
- :mod:`adam_course.web` -- the explorers in the reader's browser (``explorers.js``): what
  Python hands to the script, and the live explorer's HTML
"""

__version__ = "0.1.0"
