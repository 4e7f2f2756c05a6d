"""sgdlab: the companion package of the course book *Epochs and mini-batches*.

The chapters import this package instead of pasting code, so the code a reader
sees in the book is the code that ran. One module per idea, in the order the
course meets them:

``sgdlab.data``
    Loading and standardizing the real data sets in ``data/``.
``sgdlab.models``
    The small networks of the book, built from an explicit seed.
``sgdlab.batching``
    Cutting an epoch into mini-batches, shuffled or not: the one sampler that
    every loop of the package uses.
``sgdlab.training``
    Epoch loops (full batch, mini-batch, gradient accumulation,
    convergence-based stopping) that record what happened (chapter 1).
``sgdlab.metrics``
    Losses measured on a trained model, the exact statistics of batch RMSEs,
    the streaming epoch RMSE, and :func:`~sgdlab.metrics.first_reached`, the
    package's one answer to "when was the target first reached?" (chapters
    1 and 2).
``sgdlab.simulation``
    Monte-Carlo estimates with their standard errors (chapter 2).
``sgdlab.timing``
    Robust timings on a shared machine (medians; interleaved best-of rounds
    for comparisons), and what they were measured on.
``sgdlab.timed_training``
    Chapter 3's loop: SGD on a classifier, timed, with the test accuracy.
``sgdlab.step_time``
    The cost of one step: timers, the fit ``t0 + b·t1`` and the batch size
    it favours (chapter 3).
``sgdlab.batch_sweep``
    Choosing a batch size by measurement: the sweep and the learning-rate
    tuner (chapter 3).
``sgdlab.timing_claims``
    The timing comparisons chapter 3 states as facts, checked with margins that
    a busy machine cannot hide (also run under load by the tests).
``sgdlab.noise``
    The gradient noise scale and the steps/examples trade-off (chapter 3).
``sgdlab.distributed``
    Data parallelism with ``torch.distributed`` (chapter 3).
``sgdlab.regression``, ``sgdlab.animation``
    Gradient descent on a straight-line fit from first principles, and the
    data-driven animations that show it (chapters 4 and 5).
``sgdlab.player``, ``sgdlab.player_assets``
    The web player of the animations and explorers, and its stylesheet and
    scripts.
``sgdlab.explorer``
    Explorers: grids of runs computed at build time, chosen in the page
    (chapter 4's line fit, chapter 6's optimizers).
``sgdlab.optim``
    GD with momentum, RMSProp, Adam and AdamW written from scratch as
    ``torch.optim.Optimizer`` subclasses that match ``torch.optim``.
``sgdlab.landscape``
    Loss surfaces of two parameters, optimizer paths, Hessians and critical
    points.
``sgdlab.lr_finder``
    The learning-rate range test for any torch optimizer.
``sgdlab.plotting``
    Figures of the book, drawn from results (no computation inside): one
    module per part of the course, all importable from ``sgdlab.plotting``.
``sgdlab.grading``
    Graded exercises: ``check()`` for students, a sandboxed grader, notebooks
    and Gradescope/Classroom packaging for instructors (``sgdlab`` command).

Argument checks shared by all of them live in ``sgdlab._checks``. The site's
Sphinx extensions and tools are not part of the course: they live in ``_ext/``
and ``tools/`` of the book's repository.
"""

__version__ = "0.1.0"
