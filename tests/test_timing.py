"""Tests of sgdlab.timing (lower bounds only: no test depends on machine speed)."""

from __future__ import annotations

import time

import pytest
from sgdlab.timing import cpu_model, machine_info, median_time


def test_median_time_is_at_least_the_sleep():
    assert median_time(lambda: time.sleep(0.002), repeats=3, warmup=0) >= 0.002


def test_calls_are_counted():
    calls = []
    median_time(lambda: calls.append(1), repeats=5, warmup=2)
    assert len(calls) == 7


@pytest.mark.parametrize("kwargs", [{"repeats": 0}, {"warmup": -1}, {"repeats": 1.5}])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        median_time(lambda: None, **kwargs)


def test_not_callable():
    with pytest.raises(ValueError, match="callable"):
        median_time(42)


def test_machine_info_names_what_a_reader_needs():
    import torch

    info = machine_info()
    assert set(info) == {"cpu", "cores", "torch threads", "torch", "python", "gpu"}
    assert info["torch"] == torch.__version__
    assert info["torch threads"] == torch.get_num_threads()
    assert info["cores"] >= 1
    assert info["cpu"] == cpu_model() and info["cpu"]


def test_interleaved_best_takes_turns_and_keeps_each_minimum():
    from sgdlab.timing import interleaved_best

    order = []
    values = {"a": iter([3.0, 1.0, 2.0]), "b": iter([0.5, 0.7, 0.4])}

    def timer(key):
        def measure():
            order.append(key)
            return next(values[key])

        return measure

    best = interleaved_best({k: timer(k) for k in values}, rounds=3)
    assert best == {"a": 1.0, "b": 0.4}
    assert order == ["a", "b"] * 3
    with pytest.raises(ValueError, match="timers"):
        interleaved_best({})
    with pytest.raises(ValueError, match="rounds"):
        interleaved_best({"a": lambda: 1.0}, rounds=0)


def test_clock_measures_one_call():
    from sgdlab.timing import clock

    assert clock(lambda: time.sleep(0.002)) >= 0.002
