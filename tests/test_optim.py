"""sgdlab.optim against torch.optim, configured by the documented mapping.

Each pair runs 300 steps on a random problem with two param groups (different
learning rates, one with weight decay) and must agree to 1e-6 in float64 and
1e-5 in float32. Both are driven by the same closure and the same data.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from sgdlab import optim


def _problem(dtype, seed):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(40, 6, generator=g, dtype=dtype)
    b = torch.randn(40, generator=g, dtype=dtype)
    w = torch.randn(6, generator=g, dtype=dtype)
    v = torch.randn(3, generator=g, dtype=dtype)
    return A, b, w, v


def _run(make, dtype=torch.float64, steps=300, seed=0):
    """Optimize a least-squares term in w plus a non-convex term in v.

    Returns the parameters after every step, shape ``(steps, 9)``: comparing
    whole trajectories, not only end points (two optimizers that converge to
    the same minimum by different paths must not pass as equal).
    """
    A, b, w0, v0 = _problem(dtype, seed)
    w, v = w0.clone().requires_grad_(True), v0.clone().requires_grad_(True)
    opt = make(w, v)
    path = []
    for _ in range(steps):
        opt.zero_grad()
        loss = ((A @ w - b) ** 2).mean() + (torch.sin(3 * v) + 0.5 * v**2).sum()
        loss.backward()
        opt.step()
        path.append(torch.cat([w.detach(), v.detach()]))
    return torch.stack(path), opt


def _groups(w, v, lr_w, lr_v, wd):
    return [
        {"params": [w], "lr": lr_w},
        {"params": [v], "lr": lr_v, "weight_decay": wd},
    ]


BETA = 0.9
PAIRS = {
    "gd": (
        lambda w, v: optim.GD(_groups(w, v, 0.02, 0.01, 0.1)),
        lambda w, v: torch.optim.SGD(_groups(w, v, 0.02, 0.01, 0.1)),
    ),
    "momentum": (
        lambda w, v: optim.GD(_groups(w, v, 0.05, 0.02, 0.1), momentum=BETA),
        lambda w, v: torch.optim.SGD(
            _groups(w, v, 0.05 * (1 - BETA), 0.02 * (1 - BETA), 0.1), momentum=BETA
        ),
    ),
    "rmsprop": (
        lambda w, v: optim.RMSProp(
            _groups(w, v, 0.01, 0.003, 0.1), beta=0.95, eps=1e-6
        ),
        lambda w, v: torch.optim.RMSprop(
            _groups(w, v, 0.01, 0.003, 0.1), alpha=0.95, eps=1e-6
        ),
    ),
    # The two betas the book runs: 0.9 (the source chapter's) and 0.99 (torch's
    # default), each against torch.optim.RMSprop with alpha = beta.
    "rmsprop-0.9": (
        lambda w, v: optim.RMSProp(_groups(w, v, 0.01, 0.003, 0.1), beta=0.9),
        lambda w, v: torch.optim.RMSprop(_groups(w, v, 0.01, 0.003, 0.1), alpha=0.9),
    ),
    "rmsprop-0.99": (
        lambda w, v: optim.RMSProp(_groups(w, v, 0.01, 0.003, 0.1), beta=0.99),
        lambda w, v: torch.optim.RMSprop(_groups(w, v, 0.01, 0.003, 0.1), alpha=0.99),
    ),
    "adam": (
        lambda w, v: optim.Adam(_groups(w, v, 0.01, 0.03, 0.1), betas=(0.8, 0.99)),
        lambda w, v: torch.optim.Adam(
            _groups(w, v, 0.01, 0.03, 0.1), betas=(0.8, 0.99)
        ),
    ),
    # The ablation of chapter 6: Adam without momentum and without the bias
    # correction is RMSProp, so torch's RMSprop is its independent reference.
    "adam-uncorrected-no-momentum": (
        lambda w, v: optim.Adam(
            _groups(w, v, 0.01, 0.003, 0.1),
            betas=(0.0, 0.95),
            eps=1e-6,
            correct_bias=False,
        ),
        lambda w, v: torch.optim.RMSprop(
            _groups(w, v, 0.01, 0.003, 0.1), alpha=0.95, eps=1e-6
        ),
    ),
    "adamw": (
        lambda w, v: optim.AdamW(_groups(w, v, 0.01, 0.03, 0.2)),
        lambda w, v: torch.optim.AdamW(_groups(w, v, 0.01, 0.03, 0.2)),
    ),
}


@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_torch_in_float64(name, seed):
    ours, theirs = PAIRS[name]
    a, _ = _run(ours, seed=seed)
    b, _ = _run(theirs, seed=seed)
    assert torch.isfinite(a).all()
    assert (a - b).abs().max().item() <= 1e-6


@pytest.mark.parametrize("name", PAIRS)
def test_matches_torch_in_float32(name):
    ours, theirs = PAIRS[name]
    a, _ = _run(ours, dtype=torch.float32)
    b, _ = _run(theirs, dtype=torch.float32)
    assert (a - b).abs().max().item() <= 1e-5


@pytest.mark.parametrize("name", PAIRS)
def test_the_optimizers_actually_move_and_differ(name):
    """Guard against a vacuous match: each optimizer changes the parameters,
    and momentum without the lr mapping would not match."""
    a, _ = _run(PAIRS[name][0], steps=5)
    start = torch.cat(_problem(torch.float64, 0)[2:])
    assert (a[-1] - start).abs().max() > 1e-3


def test_momentum_without_the_mapping_differs():
    a, _ = _run(lambda w, v: optim.GD([w, v], lr=0.05, momentum=BETA))
    b, _ = _run(lambda w, v: torch.optim.SGD([w, v], lr=0.05, momentum=BETA))
    assert (a - b).abs().max() > 1e-2


def test_adam_weight_decay_is_l2_and_adamw_is_decoupled():
    a, _ = _run(lambda w, v: optim.Adam([w, v], lr=0.01, weight_decay=0.5), steps=50)
    b, _ = _run(lambda w, v: optim.AdamW([w, v], lr=0.01, weight_decay=0.5), steps=50)
    assert (a - b).abs().max() > 1e-4


@pytest.mark.parametrize("name", PAIRS)
def test_state_dict_round_trip_resumes_exactly(name):
    ours = PAIRS[name][0]
    straight, _ = _run(ours, steps=40)
    # 20 steps, save, rebuild the optimizer from the state dict, 20 more steps
    A, b, w0, v0 = _problem(torch.float64, 0)
    w, v = w0.clone().requires_grad_(True), v0.clone().requires_grad_(True)

    def closure_step(opt):
        opt.zero_grad()
        loss = ((A @ w - b) ** 2).mean() + (torch.sin(3 * v) + 0.5 * v**2).sum()
        loss.backward()
        opt.step()

    opt = ours(w, v)
    for _ in range(20):
        closure_step(opt)
    saved = copy.deepcopy(opt.state_dict())
    fresh = ours(w, v)
    fresh.load_state_dict(saved)
    assert fresh.state_dict()["state"].keys() == saved["state"].keys()
    for _ in range(20):
        closure_step(fresh)
    resumed = torch.cat([w.detach(), v.detach()])
    assert torch.equal(resumed, straight[-1])


def test_works_with_torch_schedulers():
    w = torch.zeros(2, requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    rates = []
    for _ in range(7):
        rates.append(opt.param_groups[0]["lr"])
        opt.zero_grad()
        w.sum().backward()
        opt.step()
        sched.step()
    assert rates == pytest.approx([0.1] * 3 + [0.05] * 3 + [0.025])


def test_closure_loss_is_returned():
    w = torch.ones(2, requires_grad=True)
    opt = optim.GD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w**2).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == pytest.approx(2.0)
    assert torch.allclose(w, torch.full((2,), 0.8))


def test_rmsprop_is_safe_where_a_gradient_is_zero():
    w = torch.ones(3, requires_grad=True)
    opt = optim.RMSProp([w], lr=0.1)
    for _ in range(5):
        opt.zero_grad()
        (w[0] * 2.0).backward()  # components 1 and 2 always have gradient 0
        opt.step()
    assert torch.isfinite(w).all()
    assert w[1].item() == 1.0 and w[2].item() == 1.0


@pytest.mark.parametrize("beta", [0.9, 0.99])
def test_rmsprop_step_decay_on_the_test_surface_matches_torch(beta):
    """Chapter 7's experiment, step decay at lr 3, run by both implementations:
    same path for both betas, and the chapter's conclusion (0.9 reaches the
    minimum, 0.99 is thrown out to the plateau by its first step)."""
    from sgdlab import landscape

    def run(make):
        return landscape.trajectory(
            landscape.pathological_loss,
            (-4.0, 5.0),
            make,
            300,
            make_scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(
                opt, 70, gamma=0.5
            ),
        )

    ours = run(lambda p: optim.RMSProp(p, lr=3.0, beta=beta))
    theirs = run(lambda p: torch.optim.RMSprop(p, lr=3.0, alpha=beta, eps=1e-8))
    assert abs(ours.points - theirs.points).max() <= 1e-9
    # first step: each coordinate moves by lr / sqrt(1 - beta), up to eps
    # (the w0 gradient at the start is only about 3e-3)
    first = abs(ours.points[1] - ours.points[0])
    assert first == pytest.approx([3.0 / (1 - beta) ** 0.5] * 2, rel=1e-4)
    if beta == 0.9:
        assert ours.final_loss < 0.06
    else:
        assert ours.points[1][0] > 20 and ours.final_loss > 1


def test_constant_gradient_step_lengths():
    """RMSProp's step is lr/sqrt(1-beta^t); Adam's is lr (bias correction)."""
    for cls, expected in [
        (optim.RMSProp, lambda t: (1 - 0.99**t) ** -0.5),
        (
            lambda p, lr: optim.RMSProp(p, lr=lr, beta=0.9),
            lambda t: (1 - 0.9**t) ** -0.5,
        ),
        (optim.Adam, lambda t: 1.0),
        # uncorrected: m_t = (1 - 0.9^t) g over sqrt(v_t) = sqrt(1 - 0.999^t) |g|
        (
            lambda p, lr: optim.Adam(p, lr=lr, correct_bias=False),
            lambda t: (1 - 0.9**t) / (1 - 0.999**t) ** 0.5,
        ),
    ]:
        w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        opt = cls([w], lr=1.0)
        for t in range(1, 11):
            before = w.item()
            opt.zero_grad()
            (0.37 * w).sum().backward()
            opt.step()
            assert before - w.item() == pytest.approx(expected(t), rel=1e-6)


def test_step_decay_factor_does_not_fire_at_step_zero():
    assert optim.step_decay_factor(0, 70) == 1.0
    assert optim.step_decay_factor(69, 70) == 1.0
    assert optim.step_decay_factor(70, 70) == 0.5
    assert optim.step_decay_factor(140, 70, factor=0.1) == pytest.approx(0.01)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: optim.GD(p, lr=0), "lr must be"),
        (lambda p: optim.GD(p, lr=-1.0), "lr must be"),
        (lambda p: optim.GD(p, lr=0.1, momentum=1.0), "momentum must be"),
        (lambda p: optim.GD(p, lr=0.1, momentum=-0.1), "momentum must be"),
        (lambda p: optim.RMSProp(p, beta=1.5), "beta must be"),
        (lambda p: optim.RMSProp(p, eps=0.0), "eps must be"),
        (lambda p: optim.Adam(p, betas=(0.9, 1.0)), r"betas\[1\] must be"),
        (lambda p: optim.Adam(p, betas=(-0.1, 0.9)), r"betas\[0\] must be"),
        (lambda p: optim.Adam(p, betas=0.9), "betas must be a pair"),
        (lambda p: optim.Adam(p, correct_bias="no"), "correct_bias must be"),
        (lambda p: optim.AdamW(p, weight_decay=-1), "weight_decay must be"),
        (lambda p: optim.Adam([{"params": p, "lr": -0.1}]), "lr must be"),
        (lambda p: optim.GD(p, lr=float("nan")), "lr must be"),
        (lambda p: optim.GD(p, lr=True), "lr must be"),
    ],
)
def test_bad_hyperparameters_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make([torch.zeros(2, requires_grad=True)])


@pytest.mark.parametrize("cls", [optim.GD, optim.RMSProp, optim.Adam, optim.AdamW])
def test_empty_parameter_list_is_refused(cls):
    with pytest.raises(ValueError, match="params is empty"):
        cls([])


def test_bad_step_decay_arguments():
    with pytest.raises(ValueError, match="every"):
        optim.step_decay_factor(3, 0)
    with pytest.raises(ValueError, match="step"):
        optim.step_decay_factor(-1, 5)


# Chapter 6's mechanisms, recomputed without sgdlab: a NumPy loop for the Adam
# family on the test surface (closed-form gradient) and torch.optim where torch
# has the variant. The book asserts the same pattern with sgdlab.optim.


def _surface_gradient(w):
    t, s = np.tanh(w[0]), 1 / (1 + np.exp(-w[1]))
    return np.array([2 * t * (1 - t * t), 0.01 * np.sign(w[1]) + s * (1 - s)])


def _surface_loss(w):
    return np.tanh(w[0]) ** 2 + 0.01 * abs(w[1]) + 1 / (1 + np.exp(-w[1]))


def _numpy_adam(lr, beta1, beta2, correct, steps=300, amsgrad=False):
    """w0 after each step, loss after each step, and lr * 2 / sqrt(v_hat) for w0."""
    w, m, v, v_max = np.array([-4.0, 5.0]), np.zeros(2), np.zeros(2), np.zeros(2)
    w0, losses, ratio = [], [], []
    for t in range(1, steps + 1):
        g = _surface_gradient(w)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = np.maximum(v_max, v) if amsgrad else v
        m_hat = m / (1 - beta1**t) if correct else m
        v_hat = v_max / (1 - beta2**t) if correct else v_max
        w = w - lr * m_hat / (np.sqrt(v_hat) + 1e-8)
        w0.append(w[0])
        losses.append(_surface_loss(w))
        ratio.append(lr * 2 / np.sqrt(v_hat[0]))
    return np.array(w0), np.array(losses), np.array(ratio)


def test_numpy_adam_family_matches_sgdlab_on_the_surface():
    from sgdlab import landscape

    for kw, (b1, b2, correct) in [
        (dict(betas=(0.0, 0.99), correct_bias=False), (0.0, 0.99, False)),
        (dict(betas=(0.9, 0.999), correct_bias=False), (0.9, 0.999, False)),
        (dict(betas=(0.9, 0.999)), (0.9, 0.999, True)),
    ]:
        ours = landscape.trajectory(
            landscape.pathological_loss,
            (-4.0, 5.0),
            lambda p, kw=kw: optim.Adam(p, lr=0.3, **kw),
            50,
        )
        w0, _, _ = _numpy_adam(0.3, b1, b2, correct, steps=50)
        assert np.allclose(ours.points[1:, 0], w0, atol=1e-9)


def test_adam_needs_momentum_and_the_correction_on_the_test_surface():
    """Chapter 6's ablation: at lr 0.6, 1.0 and 2.5 only Adam (and uncorrected
    Adam with beta2 = 0.99, whose first step is lr) reach the loss 0.1 and end
    at the minimum; without momentum or without the correction they do not."""
    for lr in (0.6, 1.0, 2.5):
        runs = {
            "rmsprop": _numpy_adam(lr, 0.0, 0.99, False)[1],
            "rmsprop+correction": _numpy_adam(lr, 0.0, 0.99, True)[1],
            "adam-correction": _numpy_adam(lr, 0.9, 0.999, False)[1],
            "adam-correction-0.99": _numpy_adam(lr, 0.9, 0.99, False)[1],
            "adam": _numpy_adam(lr, 0.9, 0.999, True)[1],
        }
        for name in ("adam", "adam-correction-0.99"):
            assert runs[name].min() < 0.1 and runs[name][-1] < 0.06, (lr, name)
        for name in ("rmsprop", "rmsprop+correction", "adam-correction"):
            assert runs[name][-1] > 0.1, (lr, name)
    assert _numpy_adam(0.6, 0.0, 0.99, True)[1].min() > 0.1  # never reaches it


def test_default_adam_hops_again_once_its_scaled_curvature_passes_38():
    """A large beta2 delays the hopping at the minimum; AMSGrad prevents it."""
    w0, _, ratio = _numpy_adam(0.3, 0.9, 0.999, True, steps=4200)
    crossed = np.flatnonzero(ratio[300:] > 38)[0] + 301
    hops = np.flatnonzero(np.abs(w0[300:]) > 0.01)[0] + 301
    assert 3000 < crossed < hops < 4000 and np.abs(w0[250:300]).max() < 1e-4
    w0_99, _, ratio_99 = _numpy_adam(0.3, 0.9, 0.99, True, steps=1000)
    assert np.flatnonzero(np.abs(w0_99[300:]) > 0.01)[0] + 301 < 1000
    w0_ams, _, _ = _numpy_adam(0.3, 0.9, 0.999, True, steps=4200, amsgrad=True)
    assert np.abs(w0_ams[300:]).max() < 1e-5
