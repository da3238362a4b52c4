"""Batched MLPs: K independent networks of one architecture, evaluated as one computation.

Parameters live in one flat (K, P) tensor per network; ``unflatten`` gives views with a
leading run axis K: a weight is (K, in, out), a bias (K, 1, out). Inputs are (K, B, in). The
same forward function also works on one run's parameters and one example (no K, no B), which
is how ``torch.func`` takes per-example gradients for the Langevin discriminator.

Each run is initialised from its own seed exactly as ``torch.nn.Linear`` would be (uniform in
+-1/sqrt(fan_in)), so a batch of K runs starts where K single runs would.

Two ways through a network: ``mlp_forward`` builds an autograd graph (double backprop for Roth
and the gradient penalty, ``torch.func`` for Langevin); ``forward_saving`` + ``backward`` are the
same MLP with its backward pass written out, for the steps that need first derivatives only.
On a CPU those small steps are bound by per-op overhead, and the hand-written pass does in
about half the ops what autograd does for flat parameter views (no slice-backward buffers,
activations computed in place, only the gradients asked for). Tests compare both.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

LEAKY_SLOPE = 0.2
BATCHNORM_EPS = 1e-5


@dataclass(frozen=True)
class MLPSpec:
    in_dim: int
    width: int
    depth: int
    out_dim: int
    activation: str = "relu"
    batchnorm: bool = False  # on hidden layers only (DCGAN: never on the output layer)
    output: str = "linear"  # or "tanh"

    @property
    def layer_sizes(self) -> list[tuple[int, int]]:
        sizes = [self.in_dim] + [self.width] * self.depth + [self.out_dim]
        return list(zip(sizes[:-1], sizes[1:]))


def parameter_shapes(spec: MLPSpec) -> list[tuple[int, ...]]:
    """Shapes of one run's parameters: [W0, b0, (gamma0, beta0), W1, b1, ...]."""
    shapes = []
    for layer, (fan_in, fan_out) in enumerate(spec.layer_sizes):
        shapes += [(fan_in, fan_out), (1, fan_out)]
        if spec.batchnorm and layer < spec.depth:
            shapes += [(1, fan_out), (1, fan_out)]
    return shapes


def init_mlp(spec: MLPSpec, generators: list[torch.Generator], device: torch.device) -> torch.Tensor:
    """All parameters of K runs as one flat (K, P) leaf tensor, each run drawn from its own
    generator. One flat tensor makes the optimizer, clipping, noise and checks a few ops each."""
    per_run = [torch.cat([t.flatten() for t in _init_one(spec, g)]) for g in generators]
    return torch.stack(per_run).to(device).requires_grad_()


def unflatten(spec: MLPSpec, flat: torch.Tensor) -> list[torch.Tensor]:
    """Views of the flat (K, P) parameters (or (P,) for one run) in the layer shapes."""
    views, offset = [], 0
    lead = flat.shape[:-1]
    for shape in parameter_shapes(spec):
        size = shape[0] * shape[1]
        views.append(flat[..., offset:offset + size].view(*lead, *shape))
        offset += size
    return views


def _init_one(spec: MLPSpec, generator: torch.Generator) -> list[torch.Tensor]:
    params = []
    for layer, (fan_in, fan_out) in enumerate(spec.layer_sizes):
        bound = fan_in ** -0.5
        params.append((torch.rand(fan_in, fan_out, generator=generator) * 2 - 1) * bound)
        params.append((torch.rand(1, fan_out, generator=generator) * 2 - 1) * bound)
        if spec.batchnorm and layer < spec.depth:
            params += [torch.ones(1, fan_out), torch.zeros(1, fan_out)]
    return params


def mlp_forward(spec: MLPSpec, params: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Apply the MLP to ``x`` of shape (K, B, in) (or (in,) for one run and one example)."""
    index, h = 0, x
    for layer in range(spec.depth + 1):
        weight, bias = params[index], params[index + 1]
        index += 2
        h = torch.baddbmm(bias, h, weight) if h.dim() == 3 else h @ weight + bias
        if layer == spec.depth:
            break
        if spec.batchnorm:
            scale, shift = params[index], params[index + 1]
            index += 2
            h = _batchnorm(h, scale, shift)
        h = activate(h, spec.activation)
    return tanh(h) if spec.output == "tanh" else h


def _batchnorm(h: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Normalise over the batch axis with the batch's own statistics (training mode always:
    snapshots use large batches, whose statistics are close to the population's)."""
    mean = h.mean(dim=-2, keepdim=True)
    var = h.var(dim=-2, unbiased=False, keepdim=True)
    return (h - mean) * torch.rsqrt(var + BATCHNORM_EPS) * scale + shift


class FastTanh(torch.autograd.Function):
    """tanh(x) = 2 sigmoid(2x) - 1, whose forward takes half torch.tanh's time or less on the CPU
    (2-2.5x on a (256, 128) block, one thread); the backward is torch's own tanh_backward, itself
    differentiable, so double backprop (Roth, gradient penalty) works as with torch.tanh, and
    torch.func transforms (Langevin's per-example gradients) work through the generated vmap rule."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x):
        return torch.sigmoid(x * 2).mul_(2).sub_(1)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return torch.ops.aten.tanh_backward(grad, y)


def tanh(x: torch.Tensor) -> torch.Tensor:
    return FastTanh.apply(x) if x.device.type == "cpu" else torch.tanh(x)


def activate(h: torch.Tensor, name: str) -> torch.Tensor:
    if name == "relu":
        return torch.relu(h)
    if name == "leaky_relu":
        return F.leaky_relu(h, LEAKY_SLOPE)
    return tanh(h)


def supports_manual_backward(spec: MLPSpec) -> bool:
    """Batch norm couples the examples of a batch; those networks keep to autograd."""
    return not spec.batchnorm


@torch.no_grad()
def forward_saving(spec: MLPSpec, params: list[torch.Tensor], x: torch.Tensor):
    """The MLP on x (K, B, in) without autograd, keeping what ``backward`` needs: the input of
    every layer and the output. Returns (output, saved)."""
    saved, h = [x], x
    for layer in range(spec.depth + 1):
        h = torch.baddbmm(params[2 * layer + 1], h, params[2 * layer])
        if layer < spec.depth:
            h = _activate_(h, spec.activation)
            saved.append(h)
    if spec.output == "tanh":
        h = _tanh_(h)
    saved.append(h)
    return h, saved


@torch.no_grad()
def backward(spec: MLPSpec, params: list[torch.Tensor], saved: list[torch.Tensor], grad_output: torch.Tensor,
             need_params: bool = True, need_input: bool = False):
    """Back-propagate ``grad_output`` (K, B, out) through the MLP of ``forward_saving``.
    Returns (the parameter gradients as one flat (K, P) tensor or None, the input gradient or None)."""
    g = grad_output
    if spec.output == "tanh":
        g = torch.ops.aten.tanh_backward(g, saved[-1])
    grads = []
    for layer in reversed(range(spec.depth + 1)):
        if layer < spec.depth:
            g = _activation_backward(g, saved[layer + 1], spec.activation)
        if need_params:
            grads += [g.sum(1, keepdim=True), torch.bmm(saved[layer].transpose(1, 2), g)]
        if layer > 0 or need_input:
            g = torch.bmm(g, params[2 * layer].transpose(1, 2))
    flat = torch.cat([t.flatten(1) for t in reversed(grads)], 1) if need_params else None
    return flat, (g if need_input else None)


def _tanh_(h: torch.Tensor) -> torch.Tensor:
    return h.mul_(2).sigmoid_().mul_(2).sub_(1)  # FastTanh's formula, in place


def _activate_(h: torch.Tensor, name: str) -> torch.Tensor:
    if name == "relu":
        return h.relu_()
    if name == "leaky_relu":
        return F.leaky_relu_(h, LEAKY_SLOPE)
    return _tanh_(h)


def _activation_backward(g: torch.Tensor, y: torch.Tensor, name: str) -> torch.Tensor:
    """The gradient before an activation from the one after it, given its output y (the sign of
    a (leaky) ReLU's output is its input's)."""
    if name == "relu":
        return torch.ops.aten.threshold_backward(g, y, 0)
    if name == "leaky_relu":
        return torch.ops.aten.leaky_relu_backward(g, y, LEAKY_SLOPE, True)
    return torch.ops.aten.tanh_backward(g, y)
