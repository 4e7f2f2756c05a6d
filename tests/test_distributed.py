"""Data parallelism with torch.distributed: two gloo workers launched by
torchrun make the same update as one worker with the whole batch."""

from __future__ import annotations

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
