"""Adam, SGD and RMSProp over batched parameters, with a learning rate (and betas) per run.

torch.optim keeps one learning rate per parameter tensor; a batch of K runs stores each
parameter as one (K, ...) tensor, so the per-run hyperparameters need these few lines. The
update rules are torch.optim's (tests compare them step by step).

A run whose gradient is not finite is not updated (its ``apply`` mask is False): its
parameters stay at their last finite values and its optimizer state stays finite.
"""

from __future__ import annotations

import torch

EPS = 1e-8
RMSPROP_DECAY = 0.99  # torch.optim.RMSprop's default alpha


def _per_run(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return values.view(-1, *([1] * (like.dim() - 1)))


class BatchedOptimizer:
    def __init__(self, kind: str, params: list[torch.Tensor]):
        self.kind = kind
        self.params = params
        self.first = [torch.zeros_like(p) for p in params] if kind == "adam" else None
        self.second = [torch.zeros_like(p) for p in params] if kind in ("adam", "rmsprop") else None
        self.steps = 0

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor], lr: torch.Tensor, beta1: torch.Tensor, beta2: torch.Tensor,
             apply: torch.Tensor) -> None:
        """One update; ``lr``, ``beta1``, ``beta2`` and the boolean ``apply`` have shape (K,)."""
        self.steps += 1
        rate = lr * apply
        if self.kind == "adam":
            correction1 = 1 - beta1 ** self.steps
            correction2_sqrt = torch.sqrt(1 - beta2 ** self.steps)
        for i, (p, g) in enumerate(zip(self.params, grads)):
            g = torch.where(_per_run(apply, g), g, 0.0)
            step_size = _per_run(rate, p)
            if self.kind == "sgd":
                p.sub_(step_size * g)
            elif self.kind == "rmsprop":
                self.second[i].mul_(RMSPROP_DECAY).addcmul_(g, g, value=1 - RMSPROP_DECAY)
                p.sub_(step_size * g / (self.second[i].sqrt() + EPS))
            else:
                b1, b2 = _per_run(beta1, p), _per_run(beta2, p)
                m, v = self.first[i], self.second[i]
                m.mul_(b1).add_((1 - b1) * g)
                v.mul_(b2).add_((1 - b2) * g * g)
                denominator = v.sqrt() / _per_run(correction2_sqrt, p) + EPS
                p.sub_(step_size / _per_run(correction1, p) * m / denominator)
