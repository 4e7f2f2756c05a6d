"""Speed of chapter 3's training loop, printed as figures.

Usage (from the repository root, with the requirements installed)::

    python benchmarks/batch_size.py

On 60,000 x 784 MNIST-shaped tensors and the 784-256-10 sigmoid MLP, with
one torch thread (stated in the output), it prints

- the matmul peak (``torch.mm`` of two 1024 x 1024 float32 matrices) and the
  loop's GFLOP/s at batch 256, 512 and 1024, as a share of that peak
  (target: at least 70%);
- the time per step at batch 1 of sgdlab's loop against a bare hand-written
  torch loop (target: at most 1.1 times);
- seconds per epoch with sgdlab's indexing and with
  ``DataLoader(TensorDataset, shuffle=True)`` at every batch size of the sweep
  (target: indexing faster everywhere).

All figures come from one run, measured alternately, so that they share the
machine's state; each is the best of several repeats.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from sgdlab import data, models, step_time
from sgdlab.timing import machine_info

SIZES = [
    1,
    2,
    4,
    8,
    16,
    32,
    64,
    128,
    256,
    512,
    1024,
    2048,
    4096,
    8192,
    16384,
    32768,
    60000,
]


def steps_for(b: int) -> int:
    return max(1, min(1000, 8192 // b))


def main() -> None:
    torch.set_num_threads(1)
    print(machine_info(), "(1 torch thread)")
    X, y = data.mnist_shaped(60_000, seed=0)
    model = models.make_digit_mlp(seed=0)
    flops = step_time.flops_per_row(model)

    peak = max(step_time.matmul_peak(1024) for _ in range(3))
    print(
        f"torch.mm peak: {peak:.1f} GFLOP/s; {flops / 1e6:.3f} MFLOP per row per step"
    )
    for b in (256, 512, 1024):
        t = step_time.time_steps(model, X, y, b, n_steps=16384 // b, repeats=7)
        peak = max(peak, step_time.matmul_peak(1024))
        rate = flops * b / t / 1e9
        print(
            f"batch {b:5d}: {t * 1e3:7.2f} ms/step, {rate:5.1f} GFLOP/s = "
            f"{rate / peak:.0%} of the peak"
        )

    ratios = []
    for _ in range(5):
        loop = step_time.time_steps(model, X, y, 1, n_steps=2000, repeats=1)
        bare = step_time.time_bare_steps(model, X, y, n_steps=2000, repeats=1)
        ratios.append(loop / bare)
    print(
        f"batch 1: sgdlab loop / bare loop = {np.median(ratios):.3f} "
        f"(median of 5 alternating pairs; last: {loop * 1e6:.0f} vs {bare * 1e6:.0f} µs)"
    )

    print(f"{'batch':>6} {'index s/epoch':>14} {'DataLoader s/epoch':>19} {'ratio':>6}")
    worst = math.inf
    for b in SIZES:
        reps = 3 if b < 16384 else 1
        idx = step_time.time_steps(model, X, y, b, n_steps=steps_for(b), repeats=reps)
        dl = step_time.time_steps(
            model, X, y, b, n_steps=steps_for(b), repeats=reps, loader="dataloader"
        )
        per_epoch = math.ceil(60_000 / b)
        worst = min(worst, dl / idx)
        print(f"{b:6d} {idx * per_epoch:14.3f} {dl * per_epoch:19.3f} {dl / idx:6.2f}")
    print(f"smallest DataLoader/index ratio: {worst:.3f}")


if __name__ == "__main__":
    main()
