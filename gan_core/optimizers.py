"""Adam, SGD and RMSProp over batched parameters, with a learning rate (and betas) per run.

torch.optim keeps one learning rate per parameter tensor; a batch of K runs stores each
parameter as one (K, ...) tensor, so the per-run hyperparameters need these few lines. The
update rules are torch.optim's (tests compare them step by step).

A run whose gradient is not finite is not updated (its ``apply`` mask is False): its
parameters stay at their last finite values and its optimizer state stays finite.

On the CPU, Adam runs torch's fused kernel (``torch._fused_adam_``, private to torch: what
``Adam(fused=True)`` calls): one pass over the flat parameters instead of a dozen ops, once for all
runs when they share their settings, else once per run. A lone run (the app's case) trains 1.22x
faster with it on the 2-core machine, a batch of 16 runs the same (``python bench/fused_adam.py``).
Elsewhere (CUDA) the vectorised form below avoids reading per-run settings back to the host every
step. tests/test_engine_math.py holds both to torch.optim, and fails if torch renames the kernel.
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
        self.use_fused = kind == "adam" and params[0].device.type == "cpu"
        self._step_count = torch.zeros((), dtype=torch.float32)

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor], lr: torch.Tensor, beta1: torch.Tensor, beta2: torch.Tensor,
             apply: torch.Tensor) -> None:
        """One update; ``lr``, ``beta1``, ``beta2`` and the boolean ``apply`` have shape (K,)."""
        self.steps += 1
        if self.use_fused:
            self._fused_adam(grads, lr, beta1, beta2, apply)
            return
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
                # torch.optim's Adam with few ops on the flat tensors: this runs twice per step.
                m, v = self.first[i], self.second[i]
                m.lerp_(g, _per_run(1 - beta1, p))
                v.lerp_(g.square_(), _per_run(1 - beta2, p))  # g is the masked copy: free to overwrite
                denominator = v.sqrt().div_(_per_run(correction2_sqrt, p)).add_(EPS)
                p.sub_(torch.div(m, denominator).mul_(_per_run(rate / correction1, p)))

    def _fused_adam(self, grads, lr, beta1, beta2, apply) -> None:
        lrs, beta1s, beta2s, applies = lr.tolist(), beta1.tolist(), beta2.tolist(), apply.tolist()
        if all(applies) and len(set(zip(lrs, beta1s, beta2s))) == 1:
            groups = [(slice(None), lrs[0], beta1s[0], beta2s[0])]  # the whole (K, ...) tensors at once
        else:
            groups = [(k, lrs[k], beta1s[k], beta2s[k]) for k in range(len(lrs)) if applies[k]]
        self._step_count.fill_(self.steps)  # the kernel reads the step for its bias corrections
        for index, rate, b1, b2 in groups:
            torch._fused_adam_([p[index] for p in self.params], [g[index] for g in grads],
                               [m[index] for m in self.first], [v[index] for v in self.second], [],
                               [self._step_count] * len(self.params), lr=rate, beta1=b1, beta2=b2,
                               weight_decay=0.0, eps=EPS, amsgrad=False, maximize=False)
