"""Gradient descent, momentum, RMSProp, Adam and AdamW written from scratch.

Used by the optimization-landscape chapters. Every optimizer here is a
:class:`torch.optim.Optimizer` subclass, so it has param groups,
``state_dict``/``load_state_dict`` and works with torch's learning-rate
schedulers. They share one template, :class:`TemplateOptimizer`: ``step``
runs under ``torch.no_grad()``, loops over the parameters that have a
gradient and calls the one method each algorithm defines, ``update``.

How they map onto ``torch.optim`` (tested to 1e-6 in float64):

================================  ==============================================
sgdlab                            torch.optim
================================  ==============================================
``GD(lr=η)``                      ``SGD(lr=η)``
``GD(lr=η, momentum=β)``          ``SGD(lr=η·(1−β), momentum=β)`` (EMA form:
                                  ``m = (1−β)·buf``)
``RMSProp(lr, beta=β, eps)``      ``RMSprop(lr, alpha=β, eps)`` (ε outside the
                                  square root, no bias correction)
``Adam(lr, betas, eps)``          ``Adam(lr, betas, eps)`` (ε after the bias
                                  correction)
``AdamW(lr, betas, eps, wd)``     ``AdamW(lr, betas, eps, weight_decay=wd)``
================================  ==============================================

``weight_decay`` in :class:`GD`, :class:`RMSProp` and :class:`Adam` is an L2
penalty added to the gradient, as in torch; :class:`AdamW` decouples it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch.optim import Optimizer

from ._checks import (
    check_beta,
    check_non_negative_int,
    check_non_negative_number,
    check_positive_int,
    check_positive_number,
)

__all__ = ["TemplateOptimizer", "GD", "RMSProp", "Adam", "AdamW", "step_decay_factor"]


def _check_betas(betas: Any) -> tuple[float, float]:
    try:
        beta1, beta2 = betas
    except (TypeError, ValueError):
        raise ValueError(
            f"betas must be a pair (beta1, beta2), got {betas!r}"
        ) from None
    return check_beta(beta1, "betas[0]"), check_beta(beta2, "betas[1]")


class TemplateOptimizer(Optimizer):
    """The template every optimizer of the book follows.

    Subclasses define :meth:`update`, the per-parameter rule; this class owns
    the loop. ``zero_grad`` comes from :class:`torch.optim.Optimizer`.

    Parameters
    ----------
    params
        An iterable of tensors or of param-group dicts, as for torch.
    defaults
        Hyperparameters shared by the groups (checked by the subclass).
    """

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        params = list(params)
        if not params:
            raise ValueError(
                "params is empty: pass the model's parameters, e.g. model.parameters()"
            )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        """Check one param group's hyperparameters; subclasses extend this."""
        check_positive_number(group["lr"], "lr")
        check_non_negative_number(group.get("weight_decay", 0.0), "weight_decay")

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group, checking its hyperparameters (a group may override the defaults)."""
        super().add_param_group(param_group)
        self._check_group(self.param_groups[-1])

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None):
        """Update every parameter that has a gradient; return the closure's loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise ValueError(
                        f"{type(self).__name__} does not support sparse gradients"
                    )
                state = self.state[p]
                state["step"] = state.get("step", 0) + 1
                self.update(p, p.grad, state, group)
        return loss

    def update(
        self,
        p: torch.Tensor,
        grad: torch.Tensor,
        state: dict[str, Any],
        group: dict[str, Any],
    ) -> None:
        """Change ``p`` in place. ``state["step"]`` is 1 at the first call."""
        raise NotImplementedError


class GD(TemplateOptimizer):
    """Gradient descent, with optional momentum in the EMA form.

    Without momentum: ``θ ← θ − η·g``. With ``momentum=β``:
    ``m ← β·m + (1−β)·g`` (``m`` starts at 0), ``θ ← θ − η·m``. This equals
    ``torch.optim.SGD(lr=η·(1−β), momentum=β)``.

    Parameters
    ----------
    lr
        Learning rate η (> 0).
    momentum
        EMA rate β in [0, 1); 0 means plain gradient descent.
    weight_decay
        L2 penalty λ: ``g ← g + λ·θ`` before the update.
    """

    def __init__(
        self, params, lr: float = 0.1, momentum: float = 0.0, weight_decay: float = 0.0
    ):
        check_positive_number(lr, "lr")
        check_beta(momentum, "momentum")
        super().__init__(
            params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay)
        )

    def _check_group(self, group):
        super()._check_group(group)
        check_beta(group["momentum"], "momentum")

    def update(self, p, grad, state, group):
        if group["weight_decay"]:
            grad = grad.add(p, alpha=group["weight_decay"])
        beta = group["momentum"]
        if beta:
            m = state.setdefault("m", torch.zeros_like(p))
            m.mul_(beta).add_(grad, alpha=1 - beta)
            grad = m
        p.add_(grad, alpha=-group["lr"])


class RMSProp(TemplateOptimizer):
    """RMSProp: divide each gradient component by a running RMS of its past values.

    ``v ← β·v + (1−β)·g²``, ``θ ← θ − η·g / (√v + ε)``. The ε keeps a component
    whose gradient has always been 0 from dividing 0 by 0. Matches
    ``torch.optim.RMSprop(lr, alpha=β, eps=ε)``. For a constant gradient the
    first step has length ``η/√(1−β)`` (10η for β = 0.99).

    Parameters
    ----------
    lr
        Learning rate η (> 0).
    beta
        Decay rate of the squared-gradient average, in [0, 1).
    eps
        Added to the root (> 0).
    weight_decay
        L2 penalty added to the gradient.
    """

    def __init__(
        self,
        params,
        lr: float = 0.01,
        beta: float = 0.99,
        eps: float = 1e-8,
        weight_decay=0.0,
    ):
        check_positive_number(lr, "lr")
        check_beta(beta, "beta")
        check_positive_number(eps, "eps")
        super().__init__(
            params, dict(lr=lr, beta=beta, eps=eps, weight_decay=weight_decay)
        )

    def _check_group(self, group):
        super()._check_group(group)
        check_beta(group["beta"], "beta")
        check_positive_number(group["eps"], "eps")

    def update(self, p, grad, state, group):
        if group["weight_decay"]:
            grad = grad.add(p, alpha=group["weight_decay"])
        beta = group["beta"]
        v = state.setdefault("v", torch.zeros_like(p))
        v.mul_(beta).addcmul_(grad, grad, value=1 - beta)
        p.addcdiv_(grad, v.sqrt().add_(group["eps"]), value=-group["lr"])


class Adam(TemplateOptimizer):
    """Adam (Kingma & Ba 2015): momentum and RMSProp, both bias-corrected.

    ``m ← β1·m + (1−β1)·g``, ``v ← β2·v + (1−β2)·g²``,
    ``m̂ = m/(1−β1ᵗ)``, ``v̂ = v/(1−β2ᵗ)``, ``θ ← θ − η·m̂/(√v̂ + ε)``.
    For a constant gradient every step has length η (up to ε). Matches
    ``torch.optim.Adam`` with the same arguments.
    ``correct_bias=False`` drops the two divisions (``m̂ = m``, ``v̂ = v``), an
    ablation torch does not offer: chapter 6 uses it to show what the
    correction does (with ``betas=(0, β)`` it is RMSProp again).

    Parameters
    ----------
    lr
        Learning rate η (> 0).
    betas
        ``(β1, β2)``, each in [0, 1).
    eps
        Added to √v̂ (> 0).
    weight_decay
        L2 penalty added to the gradient (torch's Adam ``weight_decay``); for
        decoupled decay use :class:`AdamW`.
    correct_bias
        Divide ``m`` and ``v`` by ``1−β1ᵗ`` and ``1−β2ᵗ`` (Adam, the default);
        ``False`` steps with the raw averages.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        correct_bias: bool = True,
    ):
        check_positive_number(lr, "lr")
        betas = _check_betas(betas)
        check_positive_number(eps, "eps")
        if not isinstance(correct_bias, bool):
            raise ValueError(
                f"correct_bias must be True or False, got {correct_bias!r}"
            )
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        super().__init__(params, dict(defaults, correct_bias=correct_bias))

    def _check_group(self, group):
        super()._check_group(group)
        _check_betas(group["betas"])
        check_positive_number(group["eps"], "eps")

    def _decay(self, p, grad, group):
        """Adam's weight decay: L2, added to the gradient."""
        if group["weight_decay"]:
            grad = grad.add(p, alpha=group["weight_decay"])
        return grad

    def update(self, p, grad, state, group):
        grad = self._decay(p, grad, group)
        beta1, beta2 = group["betas"]
        t = state["step"]
        m = state.setdefault("m", torch.zeros_like(p))
        v = state.setdefault("v", torch.zeros_like(p))
        m.mul_(beta1).add_(grad, alpha=1 - beta1)
        v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        m_hat, v_hat = m, v
        if group["correct_bias"]:  # False: the ablation of chapter 6
            m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        p.addcdiv_(m_hat, v_hat.sqrt().add_(group["eps"]), value=-group["lr"])


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2017).

    First ``θ ← θ·(1 − η·λ)``, then the Adam step on the raw gradient. Matches
    ``torch.optim.AdamW``; the default λ = 0.01 is torch's too.
    """

    def __init__(
        self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01
    ):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def _decay(self, p, grad, group):
        if group["weight_decay"]:
            p.mul_(1 - group["lr"] * group["weight_decay"])
        return grad


def step_decay_factor(step: int, every: int, factor: float = 0.5) -> float:
    """Learning-rate multiplier of step decay after ``step`` updates.

    ``factor ** (step // every)``: 1 for steps ``0 … every−1``, then ``factor``,
    and so on. The common loop ``if step % every == 0: lr *= factor`` also
    fires at step 0 and so starts one halving early; this function does not.
    """
    step = check_non_negative_int(step, "step")
    every = check_positive_int(every, "every")
    factor = check_positive_number(factor, "factor")
    return factor ** (step // every)
