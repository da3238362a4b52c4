"""The engine's mathematics checked against independent computations.

Every expected value here comes from a second code path: central finite differences in
float64, closed forms, a Python loop with ``torch.autograd.grad`` per example, a naive
rejection sampler, or ``torch.optim``. Networks are tiny so the file runs in seconds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gan_core import schedules
from gan_core.config import make_experiment
from gan_core.networks import mlp_forward
from gan_core.objectives import d_loss, g_loss_per_sample
from gan_core.optimizers import BatchedOptimizer
from gan_core.stabilizers import beta_annealing, gradient_penalty, langevin, roth
from gan_core.trainer import Trainer

torch.set_num_threads(1)

TINY = dict(g_width=8, d_width=8, batch_size=16, metrics_every=10 ** 6)


def tiny(**settings):
    return make_experiment(**{**TINY, **settings})


# ------------------------------------------------------------------------------------------
# helpers: float64 copies of D and finite differences
def params64(trainer):
    return [p.detach().to(torch.float64) for p in trainer.d_params]


def psi_at(trainer, params, x):
    """D's logit for x (K, B, d) in float64 with the given parameters."""
    return trainer.psi(x, None, params=params)


def fd_input_grad(trainer, params, x, h=1e-5):
    """Central finite-difference gradient of psi w.r.t. each input point: (K, B, d)."""
    grads = torch.zeros_like(x)
    for a in range(x.shape[-1]):
        step = torch.zeros_like(x)
        step[..., a] = h
        grads[..., a] = (psi_at(trainer, params, x + step) - psi_at(trainer, params, x - step)) / (2 * h)
    return grads


def autograd_input_grad(trainer, params, x):
    leaf = x.detach().clone().requires_grad_()
    (g,) = torch.autograd.grad(psi_at(trainer, params, leaf).sum(), leaf)
    return g


def d_step_gradient(trainer):
    """Run one D step of a trainer whose D optimizer is SGD with lr 1; return D's inputs as the
    trainer built them (``d_batch``, recorded as the step asks for it) and the gradient it applied,
    read off the parameter change (one (K, ...) tensor per layer parameter)."""
    assert trainer.shared.d_optimizer == "sgd" and float(trainer.run_settings.lr_d[0]) == 1.0
    batches, build = [], trainer.d_batch
    trainer.d_batch = lambda now: batches.append(build(now)) or batches[-1]
    before = [p.detach().clone() for p in trainer.d_params]
    trainer.d_step()
    after = [p.detach().clone() for p in trainer.d_params]
    del trainer.d_batch
    [(points, _)] = batches
    return points.detach().clone(), [b - a for b, a in zip(before, after)]


def fd_param_grad(function, params, index, entries, h=1e-6):
    """Central differences of the scalar function(params) w.r.t. some entries of params[index]."""
    out = []
    for entry in entries:
        plus = [p.clone() for p in params]
        minus = [p.clone() for p in params]
        plus[index][entry] += h
        minus[index][entry] -= h
        out.append((function(plus) - function(minus)) / (2 * h))
    return torch.stack(out)


def some_entries(shape, count, seed=0):
    generator = np.random.default_rng(seed)
    flat = generator.choice(int(np.prod(shape)), size=min(count, int(np.prod(shape))), replace=False)
    return [tuple(int(i) for i in np.unravel_index(f, shape)) for f in flat]


# ------------------------------------------------------------------------------------------
# 1. Roth et al.'s Omega
def test_roth_omega_matches_finite_difference_formula():
    trainer = Trainer(tiny(seed=3))
    params = params64(trainer)
    generator = torch.Generator().manual_seed(0)
    real = torch.rand(1, 12, 2, generator=generator, dtype=torch.float64) * 2 - 1
    fake = torch.rand(1, 12, 2, generator=generator, dtype=torch.float64) * 2 - 1
    psi_real, psi_fake = psi_at(trainer, params, real), psi_at(trainer, params, fake)

    # Independent: |grad psi| by finite differences, the formula written out.
    d_real, d_fake = torch.sigmoid(psi_real), torch.sigmoid(psi_fake)
    norm2_real = (fd_input_grad(trainer, params, real) ** 2).sum(-1)
    norm2_fake = (fd_input_grad(trainer, params, fake) ** 2).sum(-1)
    expected = ((1 - d_real) ** 2 * norm2_real).mean() + (d_fake ** 2 * norm2_fake).mean()

    got = roth.omega(psi_real, psi_fake, autograd_input_grad(trainer, params, real),
                     autograd_input_grad(trainer, params, fake))
    assert got.shape == (1,)
    assert expected > 1e-4  # not a vacuous comparison
    torch.testing.assert_close(got[0], expected, rtol=1e-7, atol=1e-10)


def omega_of_params(trainer, real, fake):
    """Omega as a function of D's (float64) parameters, input gradients by first-order autograd."""
    def function(params):
        grad_real = autograd_input_grad(trainer, params, real)
        grad_fake = autograd_input_grad(trainer, params, fake)
        d_real = torch.sigmoid(psi_at(trainer, params, real))
        d_fake = torch.sigmoid(psi_at(trainer, params, fake))
        return (((1 - d_real) ** 2 * (grad_real ** 2).sum(-1)).mean()
                + (d_fake ** 2 * (grad_fake ** 2).sum(-1)).mean())
    return function


def test_trainer_d_step_with_roth_adds_gamma_half_omega_gradient():
    """grad(D loss with Roth) - grad(D loss without) = (gamma/2) dOmega/dtheta, the latter by
    finite differences of Omega in each parameter entry (checks the double backprop)."""
    gamma = 1.5
    sgd = dict(d_optimizer="sgd", lr_d=1.0)
    with_roth = Trainer(tiny(seed=4, roth=True, roth_gamma=gamma, roth_alpha=1.0, **sgd))
    without = Trainer(tiny(seed=4, **sgd))
    inputs_on, grads_on = d_step_gradient(with_roth)
    inputs_off, grads_off = d_step_gradient(without)
    torch.testing.assert_close(inputs_on, inputs_off, rtol=0, atol=0)  # the same batch

    batch = TINY["batch_size"]
    x = inputs_on.to(torch.float64)
    real, fake = x[:, :batch], x[:, batch:2 * batch]
    function = omega_of_params(without, real, fake)
    # Both trainers have stepped: take the parameters before the step from a fresh twin.
    params = [p.detach().to(torch.float64) for p in Trainer(tiny(seed=4)).d_params]
    checked = 0
    for index in range(len(params)):
        entries = some_entries(params[index].shape, 6, seed=index)
        expected = 0.5 * gamma * fd_param_grad(function, params, index, entries)
        got = torch.stack([(grads_on[index] - grads_off[index])[e] for e in entries]).to(torch.float64)
        torch.testing.assert_close(got, expected, rtol=2e-3, atol=2e-6)
        checked += int((expected.abs() > 1e-4).sum())
    assert checked > 5  # the regularizer's gradient is not trivially zero


# ------------------------------------------------------------------------------------------
# 2. Gradient penalty
def test_gradient_penalty_matches_finite_difference_norms():
    trainer = Trainer(tiny(seed=5, objective="wasserstein"))
    params = params64(trainer)
    generator = torch.Generator().manual_seed(1)
    real = torch.rand(1, 10, 2, generator=generator, dtype=torch.float64) * 2 - 1
    fake = torch.rand(1, 10, 2, generator=generator, dtype=torch.float64) * 2 - 1
    eps = torch.rand(1, 10, 1, generator=generator, dtype=torch.float64)
    x_hat = gradient_penalty.interpolate(real, fake, eps)
    # Independent construction of the interpolates.
    for i in range(10):
        e = float(eps[0, i, 0])
        torch.testing.assert_close(x_hat[0, i], e * real[0, i] + (1 - e) * fake[0, i])
    norms = fd_input_grad(trainer, params, x_hat).norm(dim=-1)
    expected = ((norms - 1) ** 2).mean()
    got = gradient_penalty.penalty(autograd_input_grad(trainer, params, x_hat))
    assert got.shape == (1,)
    torch.testing.assert_close(got[0], expected, rtol=1e-7, atol=1e-10)


def test_interpolate_endpoints():
    generator = torch.Generator().manual_seed(2)
    real, fake = torch.randn(2, 5, 3, generator=generator), torch.randn(2, 5, 3, generator=generator)
    ones, zeros = torch.ones(2, 5, 1), torch.zeros(2, 5, 1)
    torch.testing.assert_close(gradient_penalty.interpolate(real, fake, ones), real, rtol=0, atol=0)
    torch.testing.assert_close(gradient_penalty.interpolate(real, fake, zeros), fake, rtol=0, atol=0)


def test_trainer_d_step_with_gradient_penalty_adds_lambda_penalty_gradient():
    lam = 2.0
    sgd = dict(objective="wasserstein", d_optimizer="sgd", lr_d=1.0)
    with_gp = Trainer(tiny(seed=6, gradient_penalty=True, gp_lambda=lam, **sgd))
    without = Trainer(tiny(seed=6, **sgd))
    inputs_on, grads_on = d_step_gradient(with_gp)
    inputs_off, grads_off = d_step_gradient(without)
    batch = TINY["batch_size"]
    torch.testing.assert_close(inputs_on[:, :2 * batch], inputs_off, rtol=0, atol=0)
    real, fake, x_hat = (inputs_on[:, i * batch:(i + 1) * batch].to(torch.float64) for i in range(3))
    # x_hat lies on the segment from fake to real, one eps in [0, 1] per sample.
    eps = ((x_hat - fake) * (real - fake)).sum(-1) / ((real - fake) ** 2).sum(-1)
    assert ((eps >= -1e-5) & (eps <= 1 + 1e-5)).all()
    torch.testing.assert_close(x_hat, eps.unsqueeze(-1) * real + (1 - eps.unsqueeze(-1)) * fake,
                               rtol=0, atol=1e-5)
    assert eps.std() > 0.1  # fresh eps per sample

    # The penalty is on the gradient in data units: x = centre + h u, so grad_x = grad_u / h.
    low, high = with_gp.dataset.box
    h = float(high[0] - low[0]) / 2
    assert h != 1  # else box and data units would agree and the test could not tell them apart

    def penalty_of_params(params):
        norms = fd_input_grad(with_gp, params, x_hat).norm(dim=-1) / h
        return ((norms - 1) ** 2).mean()

    params = [p.detach().to(torch.float64) for p in Trainer(tiny(seed=6)).d_params]
    for index in range(len(params)):
        entries = some_entries(params[index].shape, 5, seed=10 + index)
        expected = lam * fd_param_grad(penalty_of_params, params, index, entries, h=1e-4)
        got = torch.stack([(grads_on[index] - grads_off[index])[e] for e in entries]).to(torch.float64)
        torch.testing.assert_close(got, expected, rtol=2e-3, atol=2e-5)


# ------------------------------------------------------------------------------------------
# 3. Weight clipping
def test_weight_clipping_only_in_the_run_that_asks_for_it():
    c = 0.05
    settings = dict(objective="wasserstein", d_optimizer="rmsprop", lr_d=1e-3)
    trainer = Trainer([tiny(seed=0, weight_clipping=True, clip_value=c, **settings), tiny(seed=1, **settings)])
    trainer.train(5)
    clipped = torch.cat([p[0].detach().flatten() for p in trainer.d_params])
    free = torch.cat([p[1].detach().flatten() for p in trainer.d_params])
    assert clipped.abs().max() <= c
    assert (clipped.abs() == c).sum() > 0.3 * clipped.numel()  # many weights sit on the bound
    assert free.abs().max() > 2 * c
    # The unclipped run is exactly what it would be alone.
    alone = Trainer(tiny(seed=1, **settings))
    alone.train(5)
    for p, q in zip(trainer.d_params, alone.d_params):
        torch.testing.assert_close(p[1], q[0], rtol=0, atol=1e-6)


# ------------------------------------------------------------------------------------------
# 4. Heated distribution of beta-GAN
def point_mixture(points, weights, seed):
    """draw_data(m): m points drawn from a discrete mixture of fixed points."""
    points = torch.tensor(points, dtype=torch.float32)
    probs = torch.tensor(weights, dtype=torch.float32)
    generator = torch.Generator().manual_seed(seed)

    def draw(m):
        return points[torch.multinomial(probs, m, replacement=True, generator=generator)]
    return draw


def naive_heated(points, weights, beta, n, seed):
    """Rejection sampling as the paper states it: data point plus N(0, 1/beta) noise, throw the
    pair away if it leaves [-1, 1]^d, repeat."""
    rng = np.random.default_rng(seed)
    points, weights = np.asarray(points, dtype=float), np.asarray(weights, dtype=float)
    kept, count = [], 0
    while count < n:
        x = points[rng.choice(len(points), size=2 * n, p=weights / weights.sum())]
        y = x + rng.normal(scale=beta ** -0.5, size=x.shape)
        y = y[(np.abs(y) <= 1).all(1)]
        kept.append(y)
        count += len(y)
    return np.concatenate(kept)[:n]


def heated(points, weights, beta, n=50_000, seed=0):
    draw = point_mixture(points, weights, seed)
    generator = torch.Generator().manual_seed(seed + 1)
    x = beta_annealing.sample_heated(draw, beta, n, generator, len(points[0]), torch.device("cpu"))
    assert x.shape == (n, len(points[0]))
    return x.to(torch.float64).numpy()


def test_heated_samples_stay_in_the_box():
    for beta in (0.0, 0.05, 1.0, 30.0):
        x = heated([[0.95, -0.95], [0.0, 0.99]], [0.5, 0.5], beta, n=20_000)
        assert np.isfinite(x).all()
        assert (np.abs(x) <= 1).all()


def test_heated_variance_is_one_over_beta_for_a_point_at_the_centre():
    beta = 400.0  # std 0.05: truncation at +-1 is 20 std away
    x = heated([[0.0, 0.0, 0.0]], [1.0], beta)
    np.testing.assert_allclose(x.mean(0), 0.0, atol=5 * 0.05 / math.sqrt(len(x)))
    np.testing.assert_allclose(x.var(0), 1 / beta, rtol=0.04)


@pytest.mark.parametrize("beta", [2.0, 10.0])
@pytest.mark.parametrize("points, weights", [
    ([[0.9, 0.9]], [1.0]),
    ([[0.9, 0.9], [-0.3, 0.1]], [0.5, 0.5]),  # the edge point loses mass to the box: reweighting
])
def test_heated_matches_naive_rejection_sampler(points, weights, beta):
    n = 50_000
    fast = heated(points, weights, beta, n=n, seed=7)
    naive = naive_heated(points, weights, beta, n=n, seed=8)
    tolerance_mean = 5 * math.sqrt(2 * max(fast.var(0).max(), naive.var(0).max()) / n)
    np.testing.assert_allclose(fast.mean(0), naive.mean(0), atol=tolerance_mean)
    np.testing.assert_allclose(fast.var(0), naive.var(0), rtol=0.04)
    for axis in range(2):
        assert abs((fast[:, axis] > 0).mean() - (naive[:, axis] > 0).mean()) < 5 * math.sqrt(0.5 / n)
    # Mass near the faces: no pile-up from clipping.
    assert abs((fast > 0.98).mean() - (naive > 0.98).mean()) < 5 * math.sqrt(0.1 / n) + 1e-3


def test_heated_at_beta_zero_is_uniform_and_at_infinity_is_the_data():
    x = heated([[0.9, 0.9], [-0.3, 0.1]], [0.5, 0.5], 0.0)
    np.testing.assert_allclose(x.mean(0), 0.0, atol=0.015)
    np.testing.assert_allclose(x.var(0), 1 / 3, rtol=0.03)
    np.testing.assert_allclose(np.histogram(x[:, 0], bins=4, range=(-1, 1))[0] / len(x), 0.25, atol=0.01)

    data = torch.tensor([[0.25, -0.5], [0.75, 0.0]])
    out = beta_annealing.sample_heated(lambda m: data[:m], math.inf, 2, torch.Generator().manual_seed(0), 2,
                                       torch.device("cpu"))
    torch.testing.assert_close(out, data, rtol=0, atol=0)


# ------------------------------------------------------------------------------------------
# 5. Langevin discriminator
def example_loss_for(trainer, objective):
    def example_loss(params, real_one, fake_one):
        psi_real = mlp_forward(trainer.d_spec, params, real_one).reshape(1)
        psi_fake = mlp_forward(trainer.d_spec, params, fake_one).reshape(1)
        return d_loss(objective, psi_real, psi_fake)
    return example_loss


@pytest.mark.parametrize("objective", ["nonsaturating", "least_squares"])
def test_per_example_gradient_variance_matches_a_loop(objective):
    trainer = Trainer([tiny(seed=0), tiny(seed=1)])
    generator = torch.Generator().manual_seed(3)
    real = torch.rand(2, 20, 2, generator=generator) * 2 - 1
    fake = torch.rand(2, 20, 2, generator=generator) * 2 - 1
    params = [p.detach() for p in trainer.d_params]
    got = langevin.per_example_gradient_variance(example_loss_for(trainer, objective), params, real, fake)

    # Second path: one autograd.grad per example, float64, then the variance over examples.
    for index, p in enumerate(params):
        assert got[index].shape == p.shape
    for k in range(2):
        per_example = []
        for i in range(20):
            leaves = [p[k].to(torch.float64).clone().requires_grad_() for p in params]
            psi_r = mlp_forward(trainer.d_spec, leaves, real[k, i].to(torch.float64))
            psi_f = mlp_forward(trainer.d_spec, leaves, fake[k, i].to(torch.float64))
            if objective == "nonsaturating":  # -log D(x) - log(1 - D(G(z))), written out
                loss = -torch.log(torch.sigmoid(psi_r)) - torch.log(1 - torch.sigmoid(psi_f))
            else:
                loss = 0.5 * (psi_r - 1) ** 2 + 0.5 * psi_f ** 2
            per_example.append(torch.autograd.grad(loss.sum(), leaves))
        for index in range(len(params)):
            stacked = torch.stack([g[index] for g in per_example])
            expected = stacked.var(0, unbiased=False)
            scale = float((stacked ** 2).mean())
            torch.testing.assert_close(got[index][k].to(torch.float64), expected, rtol=1e-3, atol=1e-5 * scale)


def test_per_example_gradient_variance_is_never_negative():
    """A variance must be >= 0 (inject_noise_ takes its square root). Per-example gradients with
    a large mean and a tiny spread (here 2 + 1e-4 * u) must not come out negative."""
    def example_loss(params, real_one, fake_one):
        return (params[0] * (2.0 + 1e-4 * real_one)).sum() + 0 * fake_one.sum()

    generator = torch.Generator().manual_seed(0)
    real = torch.rand(4, 64, 50, generator=generator)
    fake = torch.rand(4, 64, 50, generator=generator)
    (variance,) = langevin.per_example_gradient_variance(example_loss, [torch.zeros(4, 50)], real, fake)
    expected = (1e-4 * real.to(torch.float64)).var(1, unbiased=False)  # closed form, ~8e-10
    assert (variance >= 0).all(), f"negative variance estimates, min {float(variance.min()):.3g}"
    torch.testing.assert_close(variance.to(torch.float64), expected, rtol=0, atol=1e-8)


def test_langevin_d_step_keeps_parameters_finite_when_d_is_saturated():
    """A finite, confident D (logit about -6 everywhere) must not get NaN weights from the
    Langevin noise: the noise level I_t is a variance, so sqrt(2 eps I_t) must be real."""
    trainer = Trainer(tiny(seed=0, batch_size=64, langevin=True, lr_d=1e-6, lr_g=1e-6))
    with torch.no_grad():
        trainer.d_params[-1].fill_(-6.0)  # output bias
    trainer.d_step()
    assert all(bool(torch.isfinite(p).all()) for p in trainer.d_params), "Langevin noise made D's weights NaN"
    assert all(bool((level >= 0).all()) for level in trainer.noise_level.level)


def test_noise_level_running_average():
    shapes = [(2, 3, 4), (2, 1, 4)]
    level = langevin.NoiseLevel([torch.zeros(s) for s in shapes])
    generator = torch.Generator().manual_seed(4)
    history = []
    manual = [torch.zeros(s, dtype=torch.float64) for s in shapes]
    for t in range(1, 5):
        v = [torch.rand(s, generator=generator) for s in shapes]
        history.append(v)
        level.update(v)
        manual = [(1 - 1 / t) * m + (1 / t) * x.to(torch.float64) for m, x in zip(manual, v)]
        for got, want in zip(level.level, manual):
            torch.testing.assert_close(got.to(torch.float64), want, rtol=1e-6, atol=1e-7)
    # closed form: the mean of V_1..V_t
    for i in range(len(shapes)):
        mean = torch.stack([v[i] for v in history]).to(torch.float64).mean(0)
        torch.testing.assert_close(level.level[i].to(torch.float64), mean, rtol=1e-6, atol=1e-7)
    # mean of diag I_t per run
    flat = torch.cat([m.flatten(1) for m in manual], 1)
    torch.testing.assert_close(level.mean().to(torch.float64), flat.mean(1), rtol=1e-6, atol=1e-7)


def test_inject_noise_has_variance_two_eps_i_t():
    shape = (3, 4, 5)
    generator = torch.Generator().manual_seed(5)
    level = langevin.NoiseLevel([torch.zeros(shape)])
    level.level[0].copy_(torch.rand(shape, generator=generator) * 0.9 + 0.1)
    step_size = torch.tensor([1e-2, 3e-3, 0.0])
    draws = 8000
    changes = torch.empty(draws, *shape)
    for i in range(draws):
        p = torch.zeros(shape)
        langevin.inject_noise_([p], level, step_size, [torch.randn(shape, generator=generator)])
        changes[i] = p
    empirical = changes.to(torch.float64).var(0)
    expected = 2 * step_size.view(-1, 1, 1).to(torch.float64) * level.level[0].to(torch.float64)
    np.testing.assert_allclose(empirical[:2].numpy(), expected[:2].numpy(), rtol=0.1)
    assert (changes[:, 2] == 0).all()  # step size 0: no noise at all
    np.testing.assert_allclose(changes.mean(0)[:2].numpy(), 0.0, atol=5 * float(expected.max().sqrt()) / draws ** 0.5)


# ------------------------------------------------------------------------------------------
# 6. Schedules
def column(*values):
    return torch.tensor(values, dtype=torch.float64)


def test_instance_noise_sigma_schedule():
    sigma0, sigma_end, steps = column(0.8, 0.8, 0.8), column(0.2, 0.2, 0.2), column(100, 100, 100)
    mode = column(schedules.NONE, schedules.LINEAR, schedules.GEOMETRIC)
    at = lambda t: schedules.instance_noise_sigma(t, sigma0, sigma_end, mode, steps)
    torch.testing.assert_close(at(0), column(0.8, 0.8, 0.8))
    torch.testing.assert_close(at(100), column(0.8, 0.2, 0.2))
    torch.testing.assert_close(at(1000), column(0.8, 0.2, 0.2))
    torch.testing.assert_close(at(50), column(0.8, 0.5, math.sqrt(0.8 * 0.2)))
    torch.testing.assert_close(at(25)[1], torch.tensor(0.8 - 0.6 * 0.25, dtype=torch.float64))
    torch.testing.assert_close(at(25)[2], torch.tensor(0.8 * 0.25 ** 0.25, dtype=torch.float64))
    # geometric towards 0 ends exactly at 0
    zero_end = schedules.instance_noise_sigma(200, column(0.5), column(0.0), column(schedules.GEOMETRIC), column(100))
    assert float(zero_end) == 0.0


def test_roth_gamma_schedule():
    gamma0, alpha, steps = column(2.0, 0.5), column(0.01, 1.0), column(1000, 10)
    torch.testing.assert_close(schedules.roth_gamma(0, gamma0, alpha, steps), column(2.0, 0.5))
    torch.testing.assert_close(schedules.roth_gamma(1000, gamma0, alpha, steps), column(0.02, 0.5))
    torch.testing.assert_close(schedules.roth_gamma(5000, gamma0, alpha, steps), column(0.02, 0.5))
    torch.testing.assert_close(schedules.roth_gamma(500, gamma0, alpha, steps)[0],
                               torch.tensor(2.0 * 0.1, dtype=torch.float64))


def test_beta_schedule():
    uniform, start, end, levels, per = 30, 0.1, 10.0, 4, 7
    at = lambda t: float(schedules.beta(t, column(uniform), column(start), column(end), column(levels), column(per)))
    for t in (0, 1, uniform - 1):
        assert at(t) == 0.0
    values = []
    for k in range(levels + 1):
        first, last = uniform + k * per, uniform + (k + 1) * per - 1
        assert at(first) == pytest.approx(at(last))  # constant within a level
        values.append(at(first))
    assert values[0] == pytest.approx(start)
    assert values[-1] == pytest.approx(end)
    ratio = (end / start) ** (1 / levels)
    for a, b in zip(values, values[1:]):
        assert b / a == pytest.approx(ratio)
    after = uniform + (levels + 1) * per
    assert at(after) == math.inf and at(after + 1000) == math.inf
    assert schedules.beta_schedule_length(uniform, levels, per) == after


# ------------------------------------------------------------------------------------------
# 7. Batched optimizers against torch.optim
def reference_optimizer(kind, params, lr, beta1, beta2):
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(beta1, beta2), eps=1e-8)
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr)
    return torch.optim.RMSprop(params, lr=lr, alpha=0.99, eps=1e-8)


# Adam has two code paths: torch's fused kernel (CPU) and the vectorised form (other devices).
KINDS = [("adam", True), ("adam", False), ("sgd", False), ("rmsprop", False)]


@pytest.mark.parametrize("kind, fused", KINDS)
@pytest.mark.parametrize("lrs, beta1s, beta2s", [([1e-2], [0.5], [0.999]),
                                                 ([1e-2, 3e-3], [0.5, 0.9], [0.999, 0.99]),
                                                 ([1e-2, 1e-2], [0.5, 0.5], [0.999, 0.999])])
def test_batched_optimizer_matches_torch_optim(kind, fused, lrs, beta1s, beta2s):
    runs = len(lrs)
    generator = torch.Generator().manual_seed(6)
    shapes = [(runs, 3, 4), (runs, 1, 4)]
    params = [torch.randn(s, generator=generator) for s in shapes]
    start = [p.clone() for p in params]
    references = []
    for k in range(runs):
        leaves = [p[k].clone().requires_grad_() for p in params]
        references.append((leaves, reference_optimizer(kind, leaves, lrs[k], beta1s[k], beta2s[k])))
    optimizer = BatchedOptimizer(kind, params)
    assert optimizer.use_fused == (kind == "adam")
    optimizer.use_fused = fused
    lr, b1, b2 = torch.tensor(lrs), torch.tensor(beta1s), torch.tensor(beta2s)
    for _ in range(6):
        grads = [torch.randn(s, generator=generator) for s in shapes]
        optimizer.step(grads, lr, b1, b2, torch.ones(runs, dtype=torch.bool))
        for k, (leaves, reference) in enumerate(references):
            for leaf, g in zip(leaves, grads):
                leaf.grad = g[k].clone()
            reference.step()
    for k, (leaves, _) in enumerate(references):
        for p, leaf in zip(params, leaves):
            torch.testing.assert_close(p[k], leaf.detach(), rtol=1e-5, atol=1e-6)
    for p, s in zip(params, start):
        assert (p - s).abs().min() > 0  # every entry moved


@pytest.mark.parametrize("kind, fused", KINDS)
def test_batched_optimizer_skips_runs_with_apply_false(kind, fused):
    generator = torch.Generator().manual_seed(7)
    shapes = [(2, 3, 4), (2, 1, 4)]
    params = [torch.randn(s, generator=generator) for s in shapes]
    start = [p.clone() for p in params]
    leaves = [p[0].clone().requires_grad_() for p in params]
    reference = reference_optimizer(kind, leaves, 1e-2, 0.5, 0.999)
    optimizer = BatchedOptimizer(kind, params)
    optimizer.use_fused = fused
    lr, b1, b2 = torch.tensor([1e-2, 1e-2]), torch.tensor([0.5, 0.5]), torch.tensor([0.999, 0.999])
    apply = torch.tensor([True, False])
    for step in range(4):
        grads = [torch.randn(s, generator=generator) for s in shapes]
        for g in grads:
            g[1] = math.nan if step % 2 == 0 else math.inf
        optimizer.step(grads, lr, b1, b2, apply)
        for leaf, g in zip(leaves, grads):
            leaf.grad = g[0].clone()
        reference.step()
    for p, s, leaf in zip(params, start, leaves):
        torch.testing.assert_close(p[1], s[1], rtol=0, atol=0)  # untouched
        torch.testing.assert_close(p[0], leaf.detach(), rtol=1e-5, atol=1e-6)
    for state in (optimizer.first or []) + (optimizer.second or []):
        assert torch.isfinite(state).all()


# ------------------------------------------------------------------------------------------
# 8. Objectives
def test_probabilistic_objectives_match_textbook_formulas():
    generator = torch.Generator().manual_seed(8)
    psi_real = torch.randn(3, 40, generator=generator, dtype=torch.float64) * 3
    psi_fake = torch.randn(3, 40, generator=generator, dtype=torch.float64) * 3
    d_real, d_fake = torch.sigmoid(psi_real), torch.sigmoid(psi_fake)
    # D maximises E log D(x) + E log(1 - D(G(z))): its loss is the negative.
    textbook_d = -(torch.log(d_real).mean(-1) + torch.log(1 - d_fake).mean(-1))
    for objective in ("minimax", "nonsaturating"):
        torch.testing.assert_close(d_loss(objective, psi_real, psi_fake), textbook_d)
    torch.testing.assert_close(g_loss_per_sample("minimax", psi_fake), torch.log(1 - d_fake))
    torch.testing.assert_close(g_loss_per_sample("nonsaturating", psi_fake), -torch.log(d_fake))
    # Stable for saturated logits where the naive formula gives inf: in float32 sigmoid(60) is 1,
    # so log(1 - D) is log 0. The limits: -log sigmoid(psi) -> -psi as psi -> -inf, -> 0 as psi -> inf;
    # -log(1 - sigmoid(psi)) -> psi as psi -> inf, -> 0 as psi -> -inf.
    big = torch.tensor([[60.0, -60.0]], dtype=torch.float32)
    assert torch.isinf(-torch.log(1 - torch.sigmoid(big))).any()  # the naive formula fails here
    # real: (0 + 60) / 2, fake: (60 + 0) / 2
    torch.testing.assert_close(d_loss("nonsaturating", big, big), torch.tensor([60.0]))
    torch.testing.assert_close(g_loss_per_sample("nonsaturating", big), torch.tensor([[0.0, 60.0]]))
    torch.testing.assert_close(g_loss_per_sample("minimax", big), torch.tensor([[-60.0, 0.0]]))


def test_other_objectives_match_their_formulas():
    generator = torch.Generator().manual_seed(9)
    r = torch.randn(2, 30, generator=generator, dtype=torch.float64)
    f = torch.randn(2, 30, generator=generator, dtype=torch.float64)
    torch.testing.assert_close(d_loss("wasserstein", r, f), f.mean(-1) - r.mean(-1))
    torch.testing.assert_close(g_loss_per_sample("wasserstein", f), -f)
    torch.testing.assert_close(d_loss("least_squares", r, f), 0.5 * ((r - 1) ** 2).mean(-1) + 0.5 * (f ** 2).mean(-1))
    torch.testing.assert_close(g_loss_per_sample("least_squares", f), 0.5 * (f - 1) ** 2)
    torch.testing.assert_close(d_loss("hinge", r, f), F.relu(1 - r).mean(-1) + F.relu(1 + f).mean(-1))
    torch.testing.assert_close(g_loss_per_sample("hinge", f), -f)


def test_fast_tanh_matches_torch_tanh_through_second_derivatives():
    from torch.func import grad, vmap

    from gan_core.networks import FastTanh, tanh

    x = torch.randn(7, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(FastTanh.apply, (x,))
    assert torch.autograd.gradgradcheck(FastTanh.apply, (x,))
    wide = torch.linspace(-30, 30, 10_001)
    assert torch.allclose(tanh(wide), torch.tanh(wide), atol=5e-7)
    a = torch.randn(4, 6)
    per_row = vmap(grad(lambda row: tanh(row).sum()))(a)
    assert torch.allclose(per_row, 1 - torch.tanh(a) ** 2, atol=1e-6)


def test_learning_rate_decay_end_points():
    from gan_core.schedules import learning_rate_factor

    fraction, start, steps = torch.tensor([0.1, 1.0]), torch.tensor([100.0, 100.0]), torch.tensor([50.0, 50.0])
    assert torch.equal(learning_rate_factor(0, fraction, start, steps), torch.ones(2))
    assert torch.equal(learning_rate_factor(100, fraction, start, steps), torch.ones(2))
    assert torch.allclose(learning_rate_factor(125, fraction, start, steps), torch.tensor([0.55, 1.0]))
    assert torch.allclose(learning_rate_factor(10_000, fraction, start, steps), torch.tensor([0.1, 1.0]))


# ------------------------------------------------------------------------------------------
# 9. The hand-written backward against autograd
OBJECTIVES = ("minimax", "nonsaturating", "wasserstein", "least_squares", "hinge")


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_closed_form_loss_gradients_match_autograd(objective):
    from gan_core.objectives import d_loss_gradient, g_loss_gradient

    generator = torch.Generator().manual_seed(10)
    # Spread over the hinge's kinks and the sigmoid's saturation; no value sits on a kink.
    r = (torch.randn(2, 30, generator=generator, dtype=torch.float64) * 3).requires_grad_()
    f = (torch.randn(2, 30, generator=generator, dtype=torch.float64) * 3).requires_grad_()
    want_r, want_f = torch.autograd.grad(d_loss(objective, r, f).sum(), (r, f))
    got_r, got_f = d_loss_gradient(objective, r.detach(), f.detach())
    torch.testing.assert_close(got_r, want_r)
    torch.testing.assert_close(got_f, want_f)
    (want_g,) = torch.autograd.grad(g_loss_per_sample(objective, f).mean(-1).sum(), f)
    torch.testing.assert_close(g_loss_gradient(objective, f.detach()), want_g)


def reference_mlp(layers, x, activation, output):
    """The textbook MLP with torch's own activations (not the engine's fast tanh)."""
    act = {"relu": torch.relu, "leaky_relu": lambda h: F.leaky_relu(h, 0.2), "tanh": torch.tanh}[activation]
    h = x
    for i, (weight, bias) in enumerate(layers):
        h = h @ weight + bias
        if i < len(layers) - 1:
            h = act(h)
    return torch.tanh(h) if output == "tanh" else h


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh"])
@pytest.mark.parametrize("output", ["linear", "tanh"])
def test_hand_written_backward_matches_autograd(activation, output):
    from gan_core.networks import MLPSpec, backward, forward_saving, init_mlp, unflatten

    spec = MLPSpec(3, 9, 3, 2, activation, False, output)
    flat = init_mlp(spec, [torch.Generator().manual_seed(k) for k in range(2)], torch.device("cpu"))
    flat = flat.detach().to(torch.float64)
    generator = torch.Generator().manual_seed(11)
    x = torch.randn(2, 13, 3, generator=generator, dtype=torch.float64)
    grad_output = torch.randn(2, 13, 2, generator=generator, dtype=torch.float64)

    leaf_x, leaf_flat = x.clone().requires_grad_(), flat.clone().requires_grad_()
    views = unflatten(spec, leaf_flat)
    want = torch.stack([reference_mlp([(w[k], b[k]) for w, b in zip(views[0::2], views[1::2])],
                                      leaf_x[k], activation, output) for k in range(2)])
    want_flat, want_x = torch.autograd.grad(want, (leaf_flat, leaf_x), grad_output)

    plain = unflatten(spec, flat)
    out, saved = forward_saving(spec, plain, x.clone())
    torch.testing.assert_close(out, want.detach())
    got_flat, got_x = backward(spec, plain, saved, grad_output, need_params=True, need_input=True)
    torch.testing.assert_close(got_flat, want_flat)
    torch.testing.assert_close(got_x, want_x)
    assert backward(spec, plain, saved, grad_output, need_params=False, need_input=False) == (None, None)


@pytest.mark.parametrize("settings", [
    dict(),
    dict(objective="least_squares", d_activation="leaky_relu", g_output="tanh", instance_noise=True),
    dict(dataset="ring8", conditional=True, coarse_grain=0.05, objective="hinge"),
])
def test_hand_written_steps_equal_autograd_steps(settings):
    """Three full steps with the hand-written backward and with autograd (the path Roth and the
    penalty use) end at the same parameters."""
    fast = Trainer([tiny(seed=s, **settings) for s in (0, 1)])
    slow = Trainer([tiny(seed=s, **settings) for s in (0, 1)])
    assert fast.manual_d and fast.manual_g
    slow.manual_d = slow.manual_g = False
    for _ in range(3):
        fast.step()
        slow.step()
    torch.testing.assert_close(fast.g_flat, slow.g_flat, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(fast.d_flat, slow.d_flat, rtol=1e-4, atol=1e-6)
    history_fast, history_slow = fast.history(), slow.history()
    for name in ("d_loss", "g_loss", "d_grad_norm", "g_grad_norm"):
        np.testing.assert_allclose(history_fast[name], history_slow[name], rtol=1e-4, atol=1e-6)
