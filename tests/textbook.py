"""D written out by hand, an independent second code path for the tests: float64, layer by layer."""

import numpy as np
import torch


def textbook_psi(trainer, layers: list[torch.Tensor], x_data) -> torch.Tensor:
    """psi of one run's D (its layers' weights and biases, in order) at points in data units: the
    map into the box, then the affine maps and the activation, in float64."""
    low, high = (torch.as_tensor(np.asarray(v, dtype=np.float64)) for v in trainer.dataset.box)
    h = (torch.as_tensor(x_data, dtype=torch.float64) - (low + high) / 2) / ((high - low)[0] / 2)
    layers = [layer.to(torch.float64) for layer in layers]
    activation = {"relu": torch.relu, "tanh": torch.tanh,
                  "leaky_relu": lambda v: torch.where(v > 0, v, 0.2 * v)}[trainer.d_spec.activation]
    for i in range(0, len(layers), 2):
        h = h @ layers[i] + layers[i + 1]
        if i + 2 < len(layers):
            h = activation(h)
    return h[..., 0]
