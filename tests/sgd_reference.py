"""The reference SGD loop that the tests hold the package's loops to.

Written with torch alone, on purpose: a seeded ``torch.randperm`` per epoch,
sliced into batches, and ``torch.optim.SGD`` on cross-entropy, so that a
package loop that drew its batches or stepped differently would not match.
"""

from __future__ import annotations

import torch
from torch import nn


def reference_sgd(model, X, y, *, lr, batch_size, epochs, seed, lr_lambda=None):
    """Train ``model`` in place: ``epochs`` epochs of plain SGD (with an optional
    ``LambdaLR`` multiplier), the rows of each epoch in a seeded permutation."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    scheduler = None
    if lr_lambda is not None:
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)
    generator = torch.Generator().manual_seed(seed)
    n = len(X)
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(X[idx]), y[idx]).backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
    return model
