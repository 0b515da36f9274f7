r"""MIX+GAN (Arora, Ge, Liang, Ma & Zhang 2017, ICML, §5; ``docs/papers/agl17.md``, "MIX+GAN"): k generators and
k discriminators of the lab's one MLP family, mixed with trained weights, and its seeded trainer.

The game. Generators :math:`G_{u_1}, \dots, G_{u_k}`, discriminators :math:`D_{v_1}, \dots, D_{v_k}` (logits),
mixture weights :math:`w^G = \operatorname{softmax}(\alpha^G)`, :math:`w^D = \operatorname{softmax}(\alpha^D)`
(logits start at 0: uniform weights), and the lab's GAN losses (:class:`~ganlimits.verify.lab.VanillaGAN`):

.. math::

    L_D(i, j) = \mathbb E_x \operatorname{softplus}(-D_j(x)) + \mathbb E_z \operatorname{softplus}(D_j(G_i(z))),
    \qquad
    L_G(i, j) = \mathbb E_z \operatorname{softplus}(-D_j(G_i(z))),

    \min_{v, \alpha^D}\ \sum_j w^D_j \Big[\mathbb E_x \operatorname{softplus}(-D_j(x))
        + \sum_i w^G_i\, \mathbb E_z \operatorname{softplus}(D_j(G_i(z)))\Big] + \lambda R(w^D), \qquad
    \min_{u, \alpha^G}\ \sum_i \sum_j w^G_i w^D_j L_G(i, j) + \lambda R(w^G),

    R(w) = -\frac1k \sum_i \log(w_i + 10^{-6}) \quad (\text{minimal at the uniform } w),

i.e. the payoff :math:`\sum_{ij} w^G_i w^D_j F(G_i, D_j)` with the lab's F (the discriminator's log loss; the
generator's non-saturating loss), the other player's weights held fixed in each player's step, and the entropy
regulariser with weight :math:`\lambda` = ``entropy_weight`` (0.1 in the authors' code).

Weights scheme. The logits :math:`\alpha` are parameters of their player's Adam (as in the authors' code). The
blog's "store the mixture probabilities using logarithm and use exponentiated gradient" is the same family of
updates: a gradient step on :math:`\alpha` multiplies each :math:`w_i` by :math:`\exp(-\eta\, g_i)` and
renormalises (with g the gradient in logit coordinates); here the step size comes from Adam, not a fixed
:math:`\eta`.

One step. Every :math:`G_i` draws :math:`k c` samples, :math:`c = \lceil b / k \rceil`, and discriminator j scores
the j-th block of c samples of every generator besides the ``b`` real samples:

.. math::

    \widehat{L}_D = \sum_j w^D_j \Big[\frac1b \sum_{x} \operatorname{softplus}(-D_j(x))
        + \sum_i w^G_i \frac1c \sum_{z \in B_{ij}} \operatorname{softplus}(D_j(G_i(z)))\Big] + \lambda R(w^D),

an unbiased minibatch estimate of the payoff above (each pair (i, j) sees its own c draws) whose cost is linear in
k: one step of k components is k steps' work of one GAN of the components' size, the paper's "k times the capacity
and corresponding training time". One Adam step of all D's and :math:`\alpha^D`, then one Adam step of all G's and
:math:`\alpha^G` through the updated D's (the generators' loss on the same blocks). Deviation: the authors' code
scores every generator's whole batch with every discriminator (k² pairs of full batches per step); the blocks give
the same expected payoff at k times less work. With k > 1 the k generators and the k discriminators are held as
batched weights (one batched matrix product per layer for all k; the same losses up to float rounding). With k = 1
(c = b) the weights are exactly 1, R is a constant and the
step is bit-for-bit :class:`VanillaGAN`'s (tested).

Sampling the mixture. :class:`MixtureLabGenerator` takes noise of dimension ``d_code + 1``: the last coordinate
:math:`h \sim N(0, 1)` selects component i when :math:`\Phi(h)` falls in the i-th interval of the cumulative
weights (the selector on a 1-D seed of the paper's Theorem 4.3), the first ``d_code`` feed :math:`G_i`.

Equal budget across k. ``equal_params=True`` (default): every component gets the largest width whose k
generators together have no more parameters than one generator of ``config.width`` (the discriminators get the
same width), and every k trains for the same number of steps with the same batch per component. The budget
recorded in the result: parameter counts, steps, and measured steps per second (a step of k components costs
more wall time than one). ``equal_params=False`` keeps the full width per component (the paper's protocol, k
times the capacity).

Shape letters: ``n`` samples, ``d`` data dimension, ``d_code`` noise dimension, ``b`` batch size, ``k`` components.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ganlimits.constructions import GaussianMixtureTarget
from ganlimits.theory import check_number, check_seed

from .._streams import Streams
from ._gan_steps import LabMethod
from ._horizon import SettleRule
from ._mode_metrics import mode_metrics
from ._models import _ACTIVATIONS, LabConfig, LabGenerator
from ._trainer import (
    LAB_TARGETS,
    TrainResult,
    check_device,
    lab_target,
    score_samples,
    train_to_horizon,
)

__all__ = ["MixGAN", "MixtureLabGenerator", "MixTrainResult", "component_width", "mix_entropy", "train_mixgan"]

ENTROPY_EPS = 1e-6
"""The additive constant inside the regulariser's log (the authors' code)."""


def mix_entropy(w: torch.Tensor) -> torch.Tensor:
    r"""The regulariser :math:`R(w) = -\frac1k \sum_i \log(w_i + 10^{-6})` (module docstring)."""
    return -torch.log(w + ENTROPY_EPS).mean(-1)


def _mlp_params(in_dim: int, out_dim: int, width: int, depth: int) -> int:
    sizes = [in_dim] + [width] * depth + [out_dim]
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


def component_width(config: LabConfig, k: int, data_dim: int, *, equal_params: bool = True) -> int:
    """The width of each of the k components: ``config.width`` when ``equal_params`` is False or k = 1, else the
    largest width w >= 1 with k * params(G of width w) <= params(G of ``config.width``).

    >>> component_width(LabConfig(), 5, 2), component_width(LabConfig(), 1, 2)
    (52, 128)
    """
    k = check_number("k", k, low=1, integer=True)
    if not equal_params or k == 1:
        return config.width
    one = _mlp_params(config.noise_dim, data_dim, config.width, config.depth)
    w = config.width
    while w > 1 and k * _mlp_params(config.noise_dim, data_dim, w, config.depth) > one:
        w -= 1
    return w


class _ComponentStack(nn.Module):
    """k MLPs of one shape as batched weights: ``forward(x)`` maps x (k, n, in) to (k, n, out), member i through
    its own weights (one ``baddbmm`` per layer). Built from k ``nn.Sequential`` MLPs of :func:`mlp` (their weights
    copied, so the draws that initialised them are unchanged); :meth:`member` gives member i back as an
    ``nn.Sequential``."""

    def __init__(self, nets: list[nn.Sequential], activation: str) -> None:
        super().__init__()
        layers = [[m for m in net if isinstance(m, nn.Linear)] for net in nets]
        self.k, self.activation = len(nets), activation
        self.weights = nn.ParameterList(
            [nn.Parameter(torch.stack([lin[i].weight.detach().T for lin in layers]).contiguous())
             for i in range(len(layers[0]))])
        self.biases = nn.ParameterList(
            [nn.Parameter(torch.stack([lin[i].bias.detach()[None, :] for lin in layers]).contiguous())
             for i in range(len(layers[0]))])
        self.act = _ACTIVATIONS[activation]()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = torch.baddbmm(b, x, w)
            if i < last:
                x = self.act(x)
        return x

    def member(self, i: int) -> nn.Sequential:
        """Member i as an ``nn.Sequential`` of ``nn.Linear`` layers (a copy)."""
        mods: list[nn.Module] = []
        last = len(self.weights) - 1
        for j, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            lin = nn.Linear(w.shape[1], w.shape[2]).to(w.device)
            with torch.no_grad():
                lin.weight.copy_(w[i].T)
                lin.bias.copy_(b[i, 0])
            mods.append(lin)
            if j < last:
                mods.append(_ACTIVATIONS[self.activation]())
        return nn.Sequential(*mods)


class MixGAN(LabMethod):
    """MIX+GAN with k components (module docstring: objective, weights, step). ``self.G`` is component 0."""

    key = "mixgan"
    label = "MIX+GAN"
    objective = ("D_j, a_D: min sum_j wD_j [E sp(-D_j(x)) + sum_i wG_i E sp(D_j(G_i(z)))] + lam R(wD); G_i, a_G: "
                 "min sum_ij wG_i wD_j E sp(-D_j(G_i(z))) + lam R(wG); w = softmax(a), R(w) = -mean log(w + 1e-6)")

    def __init__(self, *, k: int, entropy_weight: float = 0.1, **kwargs) -> None:
        self.k = check_number("k", k, low=1, integer=True)
        self.entropy_weight = check_number("entropy_weight", entropy_weight, low=0)
        super().__init__(**kwargs)
        self.label = f"MIX+GAN (k={self.k})"

    def _build(self, generator):
        # Order of draws: G_0 (built by LabMethod), D_0, then G_i, D_i: with k = 1 the weights equal VanillaGAN's.
        self.Gs = [self.G]
        self.Ds = [self._mlp(self.data_dim, 1, self.config, generator)]
        for _ in range(1, self.k):
            self.Gs.append(self._mlp(self.config.noise_dim, self.data_dim, self.config, generator))
            self.Ds.append(self._mlp(self.data_dim, 1, self.config, generator))
        self.D = self.Ds[0]
        self.alpha_g = self._zeros(self.k)
        self.alpha_d = self._zeros(self.k)
        if self.k == 1 or self.stack is not None:
            g_params = [p for G in self.Gs for p in G.parameters()]
            d_params = [p for D in self.Ds for p in D.parameters()]
        else:  # one run: the components as batched weights, one batched product per layer for all k
            self.G_stack = _ComponentStack(self.Gs, self.config.activation)
            self.D_stack = _ComponentStack(self.Ds, self.config.activation)
            g_params, d_params = list(self.G_stack.parameters()), list(self.D_stack.parameters())
        self.opt_g = self._adam([*g_params, self.alpha_g], self.config.lr_g)
        self.opt_d = self._adam([*d_params, self.alpha_d], self.config.lr_d)

    @property
    def weights_g(self) -> torch.Tensor:
        """The generator mixture's weights softmax(alpha_G), (k,) float64, detached."""
        return torch.softmax(self.alpha_g.detach().double(), 0).cpu()

    @property
    def weights_d(self) -> torch.Tensor:
        """The discriminator mixture's weights softmax(alpha_D), (k,) float64, detached."""
        return torch.softmax(self.alpha_d.detach().double(), 0).cpu()

    @property
    def block(self) -> int:
        """c = ceil(b / k): the draws of one generator that one discriminator scores per step (module docstring)."""
        return math.ceil(self.config.batch_size / self.k)

    def step(self, x, gen):
        if getattr(self, "G_stack", None) is not None:
            return self._step_stacked(x, gen)
        return self._step_loop(x, gen)

    def _step_loop(self, x, gen):
        """The step one component at a time (the module docstring's sums as written): at k = 1 it is
        :class:`VanillaGAN`'s step bit for bit, and it serves a stack of runs (rows as dim -2, one loss per run)."""
        k, b, c = self.k, x.shape[-2], self.block
        z = self._noise(k * k * c, gen)  # generator i draws rows [i k c, (i + 1) k c)
        fakes = [G(z[..., i * k * c:(i + 1) * k * c, :]) for i, G in enumerate(self.Gs)]  # each (k c, d)
        blocks = [torch.cat([f[..., j * c:(j + 1) * c, :] for f in fakes], dim=-2) for j in range(k)]  # D_j's
        wg, wd = torch.softmax(self.alpha_g, -1), torch.softmax(self.alpha_d, -1)
        loss_d = self.entropy_weight * mix_entropy(wd)
        for j, D in enumerate(self.Ds):
            out = D(torch.cat([x, blocks[j].detach()], dim=-2))
            fake_j = sum(wg[..., i].detach() * self._mean(F.softplus(out[..., b + i * c:b + (i + 1) * c, :]))
                         for i in range(k))
            loss_d = loss_d + wd[..., j] * (self._mean(F.softplus(-out[..., :b, :])) + fake_j)
        self.opt_d.zero_grad()
        loss_d.sum().backward()
        self.opt_d.step()
        wd = wd.detach()
        loss_g = self.entropy_weight * mix_entropy(wg)
        for j, D in enumerate(self.Ds):  # through the updated discriminators, on the same blocks
            out = D(blocks[j])
            loss_g = loss_g + wd[..., j] * sum(wg[..., i] * self._mean(F.softplus(-out[..., i * c:(i + 1) * c, :]))
                                               for i in range(k))
        self.opt_g.zero_grad()
        loss_g.sum().backward()
        self.opt_g.step()
        return loss_d.detach(), loss_g.detach()

    def _step_stacked(self, x, gen):
        """The step above with the k components as batched weights (the same losses; float rounding aside)."""
        k, b, c = self.k, x.shape[0], self.block
        z = self._noise(k * k * c, gen).view(k, k * c, self.config.noise_dim)
        fakes = self.G_stack(z).view(k, k, c, self.data_dim)  # (i, j, c, d): block j of generator i
        by_d = fakes.permute(1, 0, 2, 3).reshape(k, k * c, self.data_dim)  # (j, i c, d): what D_j scores
        wg, wd = torch.softmax(self.alpha_g, 0), torch.softmax(self.alpha_d, 0)
        out = self.D_stack(torch.cat([x.expand(k, b, self.data_dim), by_d.detach()], dim=1))  # (j, b + k c, 1)
        real = F.softplus(-out[:, :b, 0]).mean(dim=1)  # (j,)
        fake = F.softplus(out[:, b:, 0]).view(k, k, c).mean(dim=2)  # (j, i)
        loss_d = self.entropy_weight * mix_entropy(wd) + (wd * (real + fake @ wg.detach())).sum()
        self.opt_d.zero_grad()
        loss_d.backward()
        self.opt_d.step()
        out = self.D_stack(by_d)  # through the updated discriminators
        gen_loss = F.softplus(-out[..., 0]).view(k, k, c).mean(dim=2)  # (j, i)
        loss_g = self.entropy_weight * mix_entropy(wg) + (wd.detach() @ gen_loss @ wg)
        self.opt_g.zero_grad()
        loss_g.backward()
        self.opt_g.step()
        return loss_d.detach(), loss_g.detach()

    def _components(self) -> list[nn.Module]:
        stack = getattr(self, "G_stack", None)  # a run taken out of a stack of runs holds its components as Gs
        return self.Gs if stack is None else [stack.member(i) for i in range(self.k)]

    def generator_callable(self) -> MixtureLabGenerator:
        return MixtureLabGenerator([LabGenerator(G, noise_dim=self.config.noise_dim, name=f"component {i}")
                                    for i, G in enumerate(self._components())], self.weights_g, name=self.label)

    def networks(self) -> dict[str, torch.nn.Module]:
        if getattr(self, "G_stack", None) is None:
            return {"generator": torch.nn.ModuleList(self.Gs), "discriminator": torch.nn.ModuleList(self.Ds)}
        return {"generator": self.G_stack, "discriminator": self.D_stack}


class MixtureLabGenerator:
    """The trained generator mixture as a callable ``z -> x`` (module docstring, "Sampling the mixture").

    ``G(z)``: z (n, d_code + 1) -> x (n, d) float64 on the CPU; the last coordinate selects the component (decided
    in float64). ``sample(n, generator=)`` draws z ~ N(0, I_{d_code + 1}) in float64 and returns ``(x, None)``, the
    sampling interface of the project's targets. ``weights`` (k,) float64 sum to 1.
    """

    def __init__(self, components: list[LabGenerator], weights, *, name: str = "MIX+GAN") -> None:
        w = torch.as_tensor(weights, dtype=torch.float64).flatten()
        if len(components) != w.numel() or w.numel() < 1:
            raise ValueError(f"weights must have one entry per component ({len(components)}), got {w.numel()}")
        if bool((w < 0).any()) or abs(float(w.sum()) - 1) > 1e-9:
            raise ValueError(f"weights must be non-negative and sum to 1, got {w.tolist()}")
        self.components, self.weights, self.name = list(components), w, name
        self.dim = components[0].dim
        self.noise_dim = components[0].noise_dim + 1
        self._edges = torch.cumsum(w, 0)[:-1]

    def select(self, h: torch.Tensor) -> torch.Tensor:
        """Component index (n,) int64 of selection seeds h (n,): i with Phi(h) in [c_{i-1}, c_i)."""
        u = torch.special.ndtr(torch.as_tensor(h, dtype=torch.float64))
        return torch.searchsorted(self._edges, u, right=True)

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        z = torch.as_tensor(z)
        if z.ndim != 2 or z.shape[1] != self.noise_dim:
            raise ValueError(f"z must have shape (n, {self.noise_dim}), got {tuple(z.shape)}")
        idx = self.select(z[:, -1])
        out = torch.empty(z.shape[0], self.dim, dtype=torch.float64)
        for i, G in enumerate(self.components):
            rows = (idx == i).nonzero().flatten()
            if rows.numel():
                out[rows] = G(z[rows, :-1])
        return out

    def sample(self, n: int, *, generator: torch.Generator) -> tuple[torch.Tensor, None]:
        n = check_number("n", n, low=1, integer=True)
        return self(torch.randn(n, self.noise_dim, generator=generator, dtype=torch.float64)), None

    def __repr__(self) -> str:
        return (f"MixtureLabGenerator({self.name}: {len(self.components)} components, "
                f"R^{self.noise_dim} -> R^{self.dim})")


@dataclass
class MixTrainResult(TrainResult):
    """A :class:`~ganlimits.verify.lab.TrainResult` of MIX+GAN, with k, the final mixture weights, the component
    width and the budget it was trained under."""

    k: int = 1
    weights_g: tuple[float, ...] = ()
    weights_d: tuple[float, ...] = ()
    component_width: int = 0
    budget: str = ""

    def to_dict(self) -> dict:
        return super().to_dict() | {"k": self.k, "weights_g": list(self.weights_g),
                                    "weights_d": list(self.weights_d), "component_width": self.component_width,
                                    "budget": self.budget}


def _snapshot(method: MixGAN, target, step, streams, n_eval, threshold, losses):
    """Scores of the current mixture on ``n_eval`` fresh samples: z from ``("eval", step)`` (as the lab's
    trainer), the selection seeds from ``("eval-select", step)``."""
    z = torch.randn(n_eval, method.config.noise_dim, generator=streams.torch("eval", step))
    h = torch.randn(n_eval, generator=streams.torch("eval-select", step), dtype=torch.float64)
    mix = method.generator_callable()
    x = mix(torch.cat([z.double(), h[:, None]], 1)) if method.k > 1 else mix.components[0](z)
    return score_samples(x, target, step, threshold, losses)


def mixgan_budget(config: LabConfig, k: int, steps: int, width: int, n_params: dict, equal_params: bool,
                  data_dim: int, *, trained: int | None = None) -> str:
    """The budget a MIX+GAN run was trained under, in words (recorded in its result): steps (``trained`` of the cap
    ``steps`` when it stopped settled), the draws per step, and the width of the components."""
    per = k * math.ceil(config.batch_size / k)
    return (f"{steps if trained is None else trained} steps (cap {steps}); per step every component draws {per} "
            f"samples and each discriminator scores {config.batch_size} real and {per} generated; "
            + (f"equal parameters: component width {width} (k x {n_params['generator'] // k} generator "
               f"parameters <= {_mlp_params(config.noise_dim, data_dim, config.width, config.depth)})"
               if equal_params else f"full width {width} per component (k times the capacity and the work per step)"))


def train_mixgan(target: GaussianMixtureTarget | str, *, k: int, steps: int, seed: int,
                 config: LabConfig | None = None, entropy_weight: float = 0.1, equal_params: bool = True,
                 device: torch.device | str = "cpu", eval_every: int | None = None, n_eval: int = 2500,
                 threshold: float | None = None, settle: SettleRule | None = None,
                 progress: bool = False) -> MixTrainResult:
    """Train MIX+GAN with ``k`` components on ``target`` for ``steps`` steps (or until settled) and score the mixture.

    The seeded trainer of the lab (:func:`~ganlimits.verify.lab.train_gan`: the same streams ``"init"``,
    ``"data"``, ``"noise"``, ``("eval", step)``, the same chunked data draws, learning-rate schedule and snapshots),
    so that k = 1 reproduces ``train_gan("gan", ...)`` exactly. ``config`` is the one-network setup; with
    ``equal_params`` each component gets :func:`component_width` (module docstring, "Equal budget across k");
    ``settle`` a :class:`~ganlimits.verify.lab.regime.SettleRule`: train until it holds, ``steps`` being the cap
    (:func:`~ganlimits.verify.lab.train_until_settled`, constant schedule only); without it the run trains ``steps``
    steps and its ``horizon`` says whether the default rule held at the end. Every argument is checked before
    training: a bad one is a ``ValueError`` naming it.

    >>> r = train_mixgan("ring", k=2, steps=10, seed=0, config=LabConfig(width=16, batch_size=32), n_eval=100)
    >>> r.k, r.component_width, round(sum(r.weights_g), 12), r.generator.noise_dim
    (2, 9, 1.0, 17)
    """
    if isinstance(target, str):
        if target not in LAB_TARGETS:
            raise ValueError(f"target must be one of {', '.join(map(repr, LAB_TARGETS))} or a "
                             f"GaussianMixtureTarget; got {target!r}")
        target = lab_target(target)
    elif not isinstance(target, GaussianMixtureTarget):
        raise ValueError(f"target must be a lab target name or a GaussianMixtureTarget, got {type(target).__name__}")
    k = check_number("k", k, low=1, integer=True)
    steps = check_number("steps", steps, low=1, integer=True)
    seed = check_seed("seed", seed)
    entropy_weight = check_number("entropy_weight", entropy_weight, low=0)
    if not isinstance(equal_params, bool):
        raise ValueError(f"equal_params must be True or False, got {equal_params!r}")
    config = LabConfig() if config is None else config
    if not isinstance(config, LabConfig):
        raise ValueError(f"config must be a LabConfig, got {type(config).__name__}")
    eval_every = max(1, steps // 10) if eval_every is None else check_number("eval_every", eval_every, low=1,
                                                                              integer=True)
    n_eval = check_number("n_eval", n_eval, low=1, integer=True)
    mode_metrics(target.means[:1], target, threshold=threshold)
    if settle is not None:
        if not isinstance(settle, SettleRule):
            raise ValueError(f"settle must be a SettleRule or None, got {type(settle).__name__}")
        if config.lr_schedule != "constant":
            raise ValueError(f"lr_schedule must be 'constant' to train to a settled horizon, got "
                             f"{config.lr_schedule!r}")
    dev = check_device(device)

    width = component_width(config, k, target.dim, equal_params=equal_params)
    comp = dataclasses.replace(config, width=width)
    start = time.perf_counter()
    streams = Streams(seed)
    method = MixGAN(k=k, entropy_weight=entropy_weight, data_dim=target.dim, config=comp,
                    generator=streams.torch("init"), device=dev)
    desc = f"MIX+GAN k={k} on {target.dim}-D"

    def score(step, losses):
        return _snapshot(method, target, step, streams, n_eval, threshold, losses)

    run = train_to_horizon(method, target, steps=steps, eval_every=eval_every, streams=streams, config=config,
                           device=dev, score=score, settle=settle, progress=progress, desc=desc)
    snapshots, final, train_s, horizon = run.snapshots, run.final, run.train_s, run.horizon
    end = time.perf_counter()
    n_params = {role: sum(p.numel() for p in net.parameters()) for role, net in method.networks().items()}
    budget = mixgan_budget(config, k, steps, width, n_params, equal_params, target.dim, trained=horizon.steps)
    return MixTrainResult(model=f"mixgan-k{k}", label=method.label, objective=method.objective,
                          target=target.description, steps=horizon.steps, seed=seed, config=comp,
                          snapshots=snapshots, final=final, generator=method.generator_callable(), encoder=None,
                          elapsed_s=end - start, train_s=train_s, threads=torch.get_num_threads(), device=str(dev),
                          n_params=n_params, horizon=horizon, k=k, weights_g=tuple(method.weights_g.tolist()),
                          weights_d=tuple(method.weights_d.tolist()), component_width=width, budget=budget)
