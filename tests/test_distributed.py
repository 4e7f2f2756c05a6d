"""Data parallelism with torch.distributed: two gloo workers, started by
``launch`` or by torchrun, make the same update as one worker with the whole
batch; the workers load little (they run in a Binder session's memory)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from sgdlab import data, distributed, models


def _reference(global_batch, steps, dtype):
    digits = data.load_digits()
    model = models.make_digit_mlp(seed=0).to(dtype)
    distributed.train_steps(
        model,
        digits.X_train.to(dtype),
        digits.y_train,
        global_batch=global_batch,
        steps=steps,
        lr=0.5,
        seed=0,
    )
    return [p.detach().double().reshape(-1).tolist() for p in model.parameters()]


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_two_gloo_workers_equal_one_big_batch(tmp_path, dtype):
    result = distributed.launch(
        2, global_batch=64, steps=5, out=tmp_path / "r.json", dtype=dtype
    )
    assert result["world_size"] == 2 and result["backend"] == "gloo"
    reference = _reference(64, 5, getattr(torch, dtype))
    assert distributed.max_difference(reference, result["parameters"]) < 1e-6
    # And the check can fail: fewer steps give different parameters.
    assert (
        distributed.max_difference(
            _reference(64, 4, getattr(torch, dtype)), result["parameters"]
        )
        > 1e-4
    )


def test_slices_cover_the_global_batch():
    batches = distributed.global_batches(100, 32, 7, seed=0)
    assert len(batches) == 7 and all(len(b) == 32 for b in batches)
    # Three full batches per epoch (the short tail is dropped), a new order each epoch.
    assert len(set(torch.cat(batches[:3]).tolist())) == 96
    parts = [distributed.local_slice(batches[0], r, 4) for r in range(4)]
    assert torch.equal(torch.cat(parts), batches[0])
    with pytest.raises(ValueError, match="equal slices"):
        distributed.local_slice(batches[0], 0, 3)


def test_linear_scaling_and_warmup():
    assert distributed.linear_scaling_lr(0.1, 256, 8192) == pytest.approx(3.2)
    factors = [distributed.warmup_factor(s, 4) for s in range(6)]
    assert factors == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert distributed.warmup_factor(0, 0) == 1.0
    with pytest.raises(ValueError, match="batch"):
        distributed.linear_scaling_lr(0.1, 0, 10)
    with pytest.raises(ValueError, match="multiple"):
        distributed.launch(2, global_batch=63, steps=1, out="x.json")


def test_torchrun_runs_the_same_workers(tmp_path):
    """The command the chapter shows: torchrun's workers (reading the digits
    themselves) end where launch's do."""
    out = tmp_path / "r.json"
    run = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone",
         "--nproc_per_node=2", "-m", "sgdlab.distributed", "--global-batch", "64",
         "--steps", "5", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(out.read_text())
    reference = _reference(64, 5, torch.float32)
    assert distributed.max_difference(reference, result["parameters"]) < 1e-6


def test_sgd_step_is_torchs_sgd():
    """Bit for bit the update of torch.optim.SGD (no momentum, no decay)."""
    digits = data.load_digits()
    ours, theirs = models.make_digit_mlp(seed=3), models.make_digit_mlp(seed=3)
    optimizer = torch.optim.SGD(theirs.parameters(), lr=0.3)
    loss = torch.nn.CrossEntropyLoss()
    for batch in distributed.global_batches(len(digits.X_train), 50, 4, seed=1):
        for model in (ours, theirs):
            model.zero_grad()
            loss(model(digits.X_train[batch]), digits.y_train[batch]).backward()
        distributed.sgd_step(ours, 0.3)
        optimizer.step()
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.equal(a, b)
    assert not torch.equal(ours[0].weight, models.make_digit_mlp(seed=3)[0].weight)


def test_a_worker_imports_neither_pandas_nor_the_compiler(tmp_path):
    """What keeps chapter 3 in Binder's memory: a worker given the training set
    as a file reads no CSV (no pandas) and makes no torch.optim optimizer
    (whose import pulls in PyTorch's compiler stack and sympy)."""
    path = distributed.save_training_data(tmp_path / "digits.pt")
    code = f"""
import sys
from pathlib import Path
from sgdlab import distributed, models
X, y = distributed._training_data(Path({str(path)!r}))
distributed.train_steps(models.make_digit_mlp(seed=0), X, y, global_batch=32,
                        steps=2, lr=0.1)
print(sorted(m for m in ("pandas", "sympy", "torch._dynamo")
             if m in sys.modules))
"""
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip() == "[]"
    # And the check can fail: reading the digits the other way loads pandas.
    check = "import sys; from sgdlab import data; print('pandas' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert run.stdout.strip() == "True"
