"""The small networks of the book, each built from an explicit seed.

Used by chapter 1 (the Boston regression network) and chapter 3 (the digit
classifier).
"""

from __future__ import annotations

import torch
from torch import nn

from ._checks import check_positive_int


def make_mlp(
    n_inputs: int,
    n_hidden: int = 5,
    n_outputs: int = 1,
    *,
    seed: int = 12345,
    dtype: torch.dtype = torch.float32,
    activation: type[nn.Module] = nn.ReLU,
) -> nn.Sequential:
    """Build ``Linear(n_inputs → n_hidden) → activation → Linear(n_hidden → n_outputs)``.

    The weights are initialized exactly as if one had called
    ``torch.manual_seed(seed)`` and then built the layers, but the global
    random state is left untouched: building a model does not change what
    later random draws give.

    Parameters
    ----------
    n_inputs, n_hidden, n_outputs
        Layer widths (positive integers). Chapter 1 uses 12, 5 and 1.
    seed
        Seed of the weight initialization.
    dtype
        Floating-point type of the parameters.
    activation
        The hidden layer's activation class: ``nn.ReLU`` (chapter 1) or
        ``nn.Sigmoid`` (chapter 3's digit classifier).
    """
    n_inputs = check_positive_int(n_inputs, "n_inputs")
    n_hidden = check_positive_int(n_hidden, "n_hidden")
    n_outputs = check_positive_int(n_outputs, "n_outputs")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = nn.Sequential(
            nn.Linear(n_inputs, n_hidden),
            activation(),
            nn.Linear(n_hidden, n_outputs),
        )
    return model.to(dtype)


def make_digit_mlp(
    n_inputs: int = 784,
    n_hidden: int = 256,
    n_classes: int = 10,
    *,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> nn.Sequential:
    """``Linear(784 → 256) → Sigmoid → Linear(256 → 10)``, seeded, on ``device``.

    The classifier of chapter 3 (the reader's MNIST network). The global
    random state is left untouched.
    """
    model = make_mlp(n_inputs, n_hidden, n_classes, seed=seed, activation=nn.Sigmoid)
    return model.to(device)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars in ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
