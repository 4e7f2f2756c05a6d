"""sgdlab: the companion package of the course book *Epochs and mini-batches*.

The chapters import this package instead of pasting code, so the code a reader
sees in the book is the code that ran. One module per idea:

``sgdlab.data``
    Loading and standardizing the real data sets in ``data/``.
``sgdlab.models``
    The small networks of the book, built from an explicit seed.
``sgdlab.batching``
    Splitting a data set into mini-batches, with or without shuffling.
``sgdlab.training``
    Epoch loops (full batch, mini-batch, gradient accumulation,
    convergence-based stopping) that record what happened.
``sgdlab.metrics``
    Losses measured on a trained model, such as the per-batch "roughness".
``sgdlab.regression``, ``sgdlab.animation``
    Gradient descent on a straight-line fit from first principles, and the
    data-driven animations that show it.
``sgdlab.optim``
    GD with momentum, RMSProp, Adam and AdamW written from scratch as
    ``torch.optim.Optimizer`` subclasses that match ``torch.optim``.
``sgdlab.landscape``
    Loss surfaces of two parameters, optimizer paths, Hessians and critical
    points.
``sgdlab.lr_finder``
    The learning-rate range test for any torch optimizer.
``sgdlab.plotting``
    Figures of the book, drawn from results (no computation inside).
``sgdlab.sphinxext``
    A Sphinx extension that re-executes the book when this package or the
    data change.
"""

__version__ = "0.1.0"
