"""Data parallelism: k workers, each with a slice of the global batch.

Used by chapter 3. Each worker computes the mean-loss gradient of its own
``b`` rows; an all-reduce sums the ``k`` gradients and each worker divides by
``k``. With equal slices that average *is* the gradient of the mean loss over
all ``k·b`` rows, so every worker makes the same update as one worker with
batch ``k·b`` would (up to the order of floating-point additions).

Run it with ``torchrun`` (the module is its own script)::

    torchrun --standalone --nproc_per_node 2 -m sgdlab.distributed \\
        --global-batch 256 --steps 20 --out result.json

or from Python with :func:`launch`, which starts ``torchrun`` and reads the
result back. The backend is ``gloo`` on the CPU and ``nccl`` on GPUs.

Linear scaling with warm-up (Goyal et al. 2017): when the batch grows ``k``
times, multiply the learning rate by ``k`` (:func:`linear_scaling_lr`), but
reach that rate gradually over the first steps (:func:`warmup_factor`), because
a large rate applied to the random initial weights can wreck them.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch import nn

from ._checks import check_non_negative_int, check_positive_int, check_positive_number
from .batching import endless_batches


def linear_scaling_lr(base_lr: float, base_batch: int, batch: int) -> float:
    """The learning rate for ``batch`` by the linear scaling rule:
    ``base_lr · batch / base_batch``."""
    base_lr = check_positive_number(base_lr, "base_lr")
    base_batch = check_positive_int(base_batch, "base_batch")
    batch = check_positive_int(batch, "batch")
    return base_lr * batch / base_batch


def warmup_factor(step: int, warmup_steps: int) -> float:
    """Multiplier of the learning rate at ``step`` (from 0): rises linearly from
    ``1/warmup_steps`` to 1 over ``warmup_steps`` steps, then stays at 1.

    Use it with ``torch.optim.lr_scheduler.LambdaLR(opt, lambda s:
    warmup_factor(s, w))``. ``warmup_steps=0`` means no warm-up.
    """
    step = check_non_negative_int(step, "step")
    warmup_steps = check_non_negative_int(warmup_steps, "warmup_steps")
    if warmup_steps == 0:
        return 1.0
    return min(1.0, (step + 1) / warmup_steps)


def global_batches(
    n_rows: int, global_batch: int, steps: int, seed: int
) -> list[torch.Tensor]:
    """Row indices of the global batch of each step: a seeded permutation per
    epoch, cut into full batches (a short tail is dropped so every worker
    always gets an equal slice). Every worker computes the same list."""
    n_rows = check_positive_int(n_rows, "n_rows")
    global_batch = check_positive_int(global_batch, "global_batch")
    if global_batch > n_rows:
        raise ValueError(f"global_batch must be at most {n_rows}, got {global_batch}")
    generator = torch.Generator().manual_seed(seed)
    stream = endless_batches(
        lambda: torch.randperm(n_rows, generator=generator),
        global_batch,
        drop_last=True,
    )
    return list(itertools.islice(stream, steps))


def local_slice(batch: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """The ``rank``-th of ``world_size`` equal slices of a global batch."""
    if len(batch) % world_size:
        raise ValueError(
            f"a global batch of {len(batch)} rows does not split into {world_size} equal slices; "
            "choose a global batch that is a multiple of the number of workers"
        )
    size = len(batch) // world_size
    return batch[rank * size : (rank + 1) * size]


def average_gradients(model: nn.Module, world_size: int) -> None:
    """All-reduce every gradient (sum) and divide by ``world_size``: afterwards
    each worker holds the mean of the workers' gradients."""
    import torch.distributed as dist

    for p in model.parameters():
        if p.grad is not None:
            dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
            p.grad /= world_size


def train_steps(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    global_batch: int,
    steps: int,
    lr: float,
    seed: int = 0,
    rank: int = 0,
    world_size: int = 1,
) -> float:
    """SGD steps, data parallel when ``world_size > 1`` (a process group must
    be initialized). Returns the seconds spent per step.

    With ``world_size=1`` this is the ordinary big-batch loop, the reference
    the parallel run must match.
    """
    steps = check_positive_int(steps, "steps")
    if world_size > 1 and global_batch % world_size:
        raise ValueError(
            f"global_batch {global_batch} must be a multiple of the {world_size} workers"
        )
    batches = global_batches(len(X), global_batch, steps, seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for batch in batches:
        idx = local_slice(batch, rank, world_size).to(X.device)
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(X[idx]), y[idx]).backward()
        if world_size > 1:
            average_gradients(model, world_size)
        optimizer.step()
    if X.device.type == "cuda":
        torch.cuda.synchronize(X.device)
    return (time.perf_counter() - start) / steps


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sgdlab.distributed",
        description="Data-parallel SGD on the digits MLP; run under torchrun.",
    )
    parser.add_argument("--global-batch", type=int, required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point for each ``torchrun`` worker; rank 0 writes ``--out`` (JSON)."""
    import torch.distributed as dist

    from .data import load_digits
    from .models import make_digit_mlp

    args = _parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    device = (
        torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        if (torch.cuda.is_available())
        else torch.device("cpu")
    )
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        rank, world = dist.get_rank(), dist.get_world_size()
        dtype = getattr(torch, args.dtype)
        data = load_digits()
        X, y = data.X_train.to(device, dtype), data.y_train.to(device)
        model = make_digit_mlp(seed=args.seed, device=device).to(dtype)
        dist.barrier()
        seconds = train_steps(
            model,
            X,
            y,
            global_batch=args.global_batch,
            steps=args.steps,
            lr=args.lr,
            seed=args.seed,
            rank=rank,
            world_size=world,
        )
        if rank == 0:
            result = {
                "world_size": world,
                "backend": dist.get_backend(),
                "global_batch": args.global_batch,
                "steps": args.steps,
                "seconds_per_step": seconds,
                "parameters": [
                    p.detach().cpu().double().reshape(-1).tolist()
                    for p in model.parameters()
                ],
            }
            args.out.write_text(json.dumps(result))
    finally:
        dist.destroy_process_group()
    return 0


def launch(
    workers: int,
    *,
    global_batch: int,
    steps: int,
    out: str | Path,
    lr: float = 0.5,
    seed: int = 0,
    dtype: str = "float32",
    timeout: float = 300,
) -> dict:
    """Run :func:`main` in ``workers`` processes with ``torchrun`` and return
    rank 0's result (``parameters`` as flat lists, ``seconds_per_step``).

    Each worker uses one thread. A failure raises ``RuntimeError`` with the
    workers' output.
    """
    workers = check_positive_int(workers, "workers")
    if global_batch % workers:
        raise ValueError(
            f"global_batch {global_batch} must be a multiple of workers ({workers})"
        )
    out = Path(out)
    out.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={workers}",
        "-m",
        "sgdlab.distributed",
        "--global-batch",
        str(global_batch),
        "--steps",
        str(steps),
        "--lr",
        str(lr),
        "--seed",
        str(seed),
        "--dtype",
        dtype,
        "--out",
        str(out),
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0 or not out.is_file():
        raise RuntimeError(
            f"torchrun exited with {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
        )
    return json.loads(out.read_text())


def max_difference(a: list[list[float]], b: list[list[float]]) -> float:
    """Largest absolute difference between two parameter lists."""
    if len(a) != len(b):
        raise ValueError("the two models have a different number of parameter tensors")
    return max(
        (
            max((abs(u - v) for u, v in zip(p, q, strict=True)), default=0.0)
            for p, q in zip(a, b, strict=True)
        ),
        default=0.0,
    )


if __name__ == "__main__":
    sys.exit(main())


__all__ = [
    "average_gradients",
    "global_batches",
    "launch",
    "linear_scaling_lr",
    "local_slice",
    "main",
    "max_difference",
    "train_steps",
    "warmup_factor",
]
