"""Data parallelism: k workers, each with a slice of the global batch.

Used by chapter 3. Each worker computes the mean-loss gradient of its own
``b`` rows; an all-reduce sums the ``k`` gradients and each worker divides by
``k``. With equal slices that average *is* the gradient of the mean loss over
all ``k·b`` rows, so every worker makes the same update as one worker with
batch ``k·b`` would (up to the order of floating-point additions).

Run it with ``torchrun`` (the module is its own script)::

    torchrun --standalone --nproc_per_node 2 -m sgdlab.distributed \\
        --global-batch 256 --steps 20 --out result.json

or from Python with :func:`launch`, which starts the workers as ``torchrun
--standalone`` does (the same environment variables) and reads the result
back. It starts them itself, without ``torchrun``'s agent process, and hands
them the training set in a file they map into memory, so that the workers
import only ``torch`` and the model: every process that imports PyTorch
holds memory of its own, and a notebook on Binder has little to spare
(``benchmarks/binder_memory.py`` measures it). The backend is ``gloo`` on the CPU and
``nccl`` on GPUs.

Linear scaling with warm-up (Goyal et al. 2017): when the batch grows ``k``
times, multiply the learning rate by ``k`` (:func:`linear_scaling_lr`), but
reach that rate gradually over the first steps (:func:`warmup_factor`), because
a large rate applied to the random initial weights can wreck them.
"""

from __future__ import annotations

import argparse
import ctypes
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
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


def sgd_step(model: nn.Module, lr: float) -> None:
    """``w <- w - lr * grad`` for every parameter: the update of
    ``torch.optim.SGD(params, lr)`` without momentum or weight decay, written
    out because creating a ``torch.optim`` optimizer imports PyTorch's
    compiler stack (about 800 more modules), and the workers need none of it."""
    with torch.no_grad():
        for p in model.parameters():
            if p.grad is not None:
                p.add_(p.grad, alpha=-lr)


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
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for batch in batches:
        idx = local_slice(batch, rank, world_size).to(X.device)
        model.zero_grad(set_to_none=True)
        loss_fn(model(X[idx]), y[idx]).backward()
        if world_size > 1:
            average_gradients(model, world_size)
        sgd_step(model, lr)
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
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="the training set, as save_training_data writes it (default: "
        "sgdlab.data.load_digits())",
    )
    parser.add_argument("--out", type=Path, required=True)
    return parser


def save_training_data(path: str | Path) -> Path:
    """Write the digits' training set (``sgdlab.data.load_digits()``) to ``path``
    for the workers' ``--data``: they map it instead of reading the CSV."""
    from .data import load_digits

    digits = load_digits()
    path = Path(path)
    torch.save({"X": digits.X_train, "y": digits.y_train}, path)
    return path


def _training_data(path: Path | None) -> tuple[torch.Tensor, torch.Tensor]:
    if path is None:
        from .data import load_digits

        digits = load_digits()
        return digits.X_train, digits.y_train
    # Mapped, not read: the workers share one copy in the page cache.
    saved = torch.load(path, mmap=True, weights_only=True)
    return saved["X"], saved["y"]


def main(argv: list[str] | None = None) -> int:
    """Entry point for each ``torchrun`` worker; rank 0 writes ``--out`` (JSON)."""
    import torch.distributed as dist

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
        X, y = _training_data(args.data)
        X, y = X.to(device, dtype), y.to(device)
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


def _release_free_heap() -> None:
    """Hand the memory this process has freed back to the system (glibc keeps
    it otherwise), so that a notebook's kernel holds less while the workers
    run beside it. Elsewhere than glibc, nothing to do."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_workers(workers: int, args: list[str], log: Path) -> list[subprocess.Popen]:
    """``workers`` processes of :func:`main`, with the environment that
    ``torchrun --standalone --nproc_per_node workers`` gives its workers."""
    port = _free_port()
    procs = []
    for rank in range(workers):
        env = dict(
            os.environ,
            OMP_NUM_THREADS="1",
            MASTER_ADDR="127.0.0.1",
            MASTER_PORT=str(port),
            RANK=str(rank),
            LOCAL_RANK=str(rank),
            WORLD_SIZE=str(workers),
            LOCAL_WORLD_SIZE=str(workers),
        )
        with (log / f"worker{rank}.log").open("w") as out:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "sgdlab.distributed", *args],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                )
            )
    return procs


def _wait(procs: list[subprocess.Popen], timeout: float) -> list[int | None]:
    """Wait for every worker; when one fails or time runs out, stop the others
    (they would wait for it forever). Returns the exit codes (``None``: stopped)."""
    deadline = time.monotonic() + timeout
    while any(p.poll() is None for p in procs):
        failed = any(p.poll() not in (None, 0) for p in procs)
        if failed or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    codes = [p.poll() for p in procs]
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait()
    return codes


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
    """Run :func:`main` in ``workers`` processes, as ``torchrun --standalone``
    would, and return rank 0's result (``parameters`` as flat lists,
    ``seconds_per_step``).

    Each worker uses one thread and maps the training set from a file that
    this process writes (:func:`save_training_data`). A worker that fails, or
    a run past ``timeout`` seconds, stops them all and raises ``RuntimeError``
    with the workers' output.
    """
    workers = check_positive_int(workers, "workers")
    if global_batch % workers:
        raise ValueError(
            f"global_batch {global_batch} must be a multiple of workers ({workers})"
        )
    out = Path(out)
    out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="sgdlab-dp-") as tmp:
        tmp = Path(tmp)
        args = [
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
            "--data",
            str(save_training_data(tmp / "digits.pt")),
            "--out",
            str(out),
        ]
        _release_free_heap()
        codes = _wait(_start_workers(workers, args, tmp), timeout)
        if codes != [0] * workers or not out.is_file():
            logs = "\n".join(
                f"worker {rank} ({'stopped' if code is None else f'exit {code}'}):\n"
                + (tmp / f"worker{rank}.log").read_text()[-3000:]
                for rank, code in enumerate(codes)
            )
            raise RuntimeError(f"the data-parallel run failed:\n{logs}")
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
    "save_training_data",
    "sgd_step",
    "train_steps",
    "warmup_factor",
]
