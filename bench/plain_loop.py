"""The baseline: the bench preset's GAN written as a user would write a plain PyTorch loop.

G z(3) -> ReLU 128 -> ReLU 128 -> 3, D 3 -> Tanh 128 x3 -> 1, batch 256, Adam lr 1e-3
betas (0.5, 0.999), non-saturating loss, one D step per G step, data gauss3d5 (scaled to the
box as the lab does). Optional Roth regularizer or WGAN-GP, the textbook way.
With ``compiled``, the plain variant's networks and Adam steps go through torch.compile (inductor),
as a user chasing speed would do next. Used by bench/speed.py; run alone:
python bench/plain_loop.py [--steps N] [--variant plain|roth|wgan-gp] [--compiled]
"""

import argparse
import time

import torch
from torch import nn

import ganlab_datasets


def build(variant: str = "plain", seed: int = 0, device: str = "cpu", compiled: bool = False):
    torch.manual_seed(seed)
    dataset = ganlab_datasets.get_dataset("gauss3d5")
    low, high = dataset.box
    mid, half = torch.tensor((low + high) / 2, dtype=torch.float32, device=device), float(high[0] - low[0]) / 2
    if variant == "wgan-gp":  # the authors' toy script: ReLU 512 critic, Adam 1e-4 (0.5, 0.9)
        g = nn.Sequential(nn.Linear(3, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 3))
        d = nn.Sequential(nn.Linear(3, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 512),
                          nn.ReLU(), nn.Linear(512, 1))
        lr, betas = 1e-4, (0.5, 0.9)
    else:
        g = nn.Sequential(nn.Linear(3, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 3))
        d = nn.Sequential(nn.Linear(3, 128), nn.Tanh(), nn.Linear(128, 128), nn.Tanh(), nn.Linear(128, 128),
                          nn.Tanh(), nn.Linear(128, 1))
        lr, betas = 1e-3, (0.5, 0.999)
    g, d = g.to(device), d.to(device)
    opt_g = torch.optim.Adam(g.parameters(), lr=lr, betas=betas)
    opt_d = torch.optim.Adam(d.parameters(), lr=lr, betas=betas)
    step_g, step_d = opt_g.step, opt_d.step
    if compiled:
        if variant != "plain":  # double backprop through compiled graphs is not supported by torch.compile
            raise ValueError("compiled: only the plain variant")
        g, d = torch.compile(g), torch.compile(d)
        step_g, step_d = torch.compile(opt_g.step), torch.compile(opt_d.step)
    generator = torch.Generator(device=device).manual_seed(seed)
    softplus = nn.functional.softplus
    n_critic = 5 if variant == "wgan-gp" else 1

    def step():
        for _ in range(n_critic):
            real = (dataset.sample(256, generator=generator, device=device) - mid) / half
            fake = g(torch.randn(256, 3, device=device)).detach()
            if variant == "wgan-gp":
                eps = torch.rand(256, 1, device=device)
                hat = (eps * real + (1 - eps) * fake).requires_grad_()
                grad = torch.autograd.grad(d(hat).sum(), hat, create_graph=True)[0]
                loss_d = d(fake).mean() - d(real).mean() + 0.1 * ((grad.norm(dim=1) - 1) ** 2).mean()
            elif variant == "roth":
                real.requires_grad_()
                fake.requires_grad_()
                psi_r, psi_f = d(real), d(fake)
                grad_r = torch.autograd.grad(psi_r.sum(), real, create_graph=True)[0]
                grad_f = torch.autograd.grad(psi_f.sum(), fake, create_graph=True)[0]
                omega = ((1 - torch.sigmoid(psi_r)) ** 2 * grad_r.pow(2).sum(1, keepdim=True)).mean() \
                    + (torch.sigmoid(psi_f) ** 2 * grad_f.pow(2).sum(1, keepdim=True)).mean()
                loss_d = softplus(-psi_r).mean() + softplus(psi_f).mean() + 1.0 * omega
            else:
                loss_d = softplus(-d(real)).mean() + softplus(d(fake)).mean()
            opt_d.zero_grad()
            loss_d.backward()
            step_d()
        fake = g(torch.randn(256, 3, device=device))
        loss_g = -d(fake).mean() if variant == "wgan-gp" else softplus(-d(fake)).mean()
        opt_g.zero_grad()
        loss_g.backward()
        step_g()

    step.networks = (g, d)  # for tests: the compiled modules share the eager ones' parameters
    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--variant", default="plain", choices=["plain", "roth", "wgan-gp"])
    parser.add_argument("--compiled", action="store_true", help="torch.compile the networks and Adam (plain only)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    step = build(args.variant, compiled=args.compiled)
    for _ in range(20):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    print(f"{args.variant}: {args.steps / (time.perf_counter() - start):.1f} steps/s")


if __name__ == "__main__":
    main()
