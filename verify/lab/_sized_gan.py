r"""The lab's non-saturating GAN with a discriminator of its own size: the generator stays fixed while only the
discriminator grows (Arora & Zhang 2017, diversity against discriminator size; ``docs/papers/az17.md``).

:class:`~ganlimits.verify.lab.LabConfig` gives every network of a method one width; the diversity experiment needs
the discriminator's width and depth to vary with everything else fixed. :class:`SizedGAN` is
:class:`~ganlimits.verify.lab.VanillaGAN` (the same objective and the same step) with the discriminator built from
``d_width`` x ``d_depth``, and :func:`train_sized_gan` trains it with the trainer's conventions: the named streams
``"init"`` (generator weights, then discriminator weights), ``"data"`` and ``"noise"`` of
:class:`~ganlimits.verify.runs.Streams` from the run's seed, real minibatches drawn a chunk of steps at a time, the
linear or constant learning-rate schedule, a progress bar, and the trained generator handed back as a
:class:`~ganlimits.verify.lab.LabGenerator`. Bit-identical for a fixed seed, thread count and device.

Shape letters: ``n`` samples, ``d`` data dimension, ``d_code`` noise dimension, ``p`` discriminator parameters.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import torch

from ganlimits.constructions import GaussianMixtureTarget
from ganlimits.theory import check_number, check_seed

from .._streams import Streams
from ._gan_steps import VanillaGAN
from ._horizon import Horizon, SettleRule
from ._mode_metrics import ModeMetrics, mode_metrics
from ._models import LabConfig, LabGenerator
from ._trainer import Snapshot, check_device, run_steps, score_samples, train_to_horizon

__all__ = ["SizedGAN", "SizedRun", "train_sized_gan", "discriminator_parameters"]



def discriminator_parameters(data_dim: int, width: int, depth: int) -> int:
    """``p``: the number of weights and biases of the MLP discriminator ``R^d -> [width] * depth -> R``.

    >>> discriminator_parameters(2, 8, 2)
    105
    """
    sizes = [int(data_dim)] + [int(width)] * int(depth) + [1]
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


class SizedGAN(VanillaGAN):
    r"""The non-saturating GAN of :class:`~ganlimits.verify.lab.VanillaGAN` with a discriminator of ``d_width``
    units in each of ``d_depth`` hidden layers (the generator keeps ``config.width`` x ``config.depth``).

    .. math::

        \max_D\ \mathbb E_x \log\sigma(D(x)) + \mathbb E_z \log(1 - \sigma(D(G(z)))), \qquad
        \min_G\ -\mathbb E_z \log \sigma(D(G(z))).
    """

    key = "gan-sized"
    label = "GAN (sized D)"

    def __init__(self, *, d_width: int, d_depth: int, **kwargs) -> None:
        self.d_width = check_number("d_width", d_width, low=1, integer=True)
        self.d_depth = check_number("d_depth", d_depth, low=1, integer=True)
        super().__init__(**kwargs)

    def _build(self, generator):
        d_config = dataclasses.replace(self.config, width=self.d_width, depth=self.d_depth)
        self.D = self._mlp(self.data_dim, 1, d_config, generator)
        self.opt_g = self._adam(self.G.parameters(), self.config.lr_g)
        self.opt_d = self._adam(self.D.parameters(), self.config.lr_d)


@dataclass
class SizedRun:
    """One training run of :class:`SizedGAN`: the sizes, the final mode metrics on ``n_eval`` fresh samples, the
    trained generator (``z -> x``), timings, and with snapshots their scores and the run's
    :class:`~ganlimits.verify.lab.regime.Horizon` (steps trained, whether it settled)."""

    d_width: int
    d_depth: int
    d_params: int
    g_params: int
    steps: int
    seed: int
    config: LabConfig
    final: ModeMetrics
    generator: LabGenerator
    train_s: float
    threads: int
    snapshots: list[Snapshot] | None = None
    horizon: Horizon | None = None

    def to_dict(self) -> dict:
        """Everything but the generator callable, JSON-ready."""
        return {"d_width": self.d_width, "d_depth": self.d_depth, "d_params": self.d_params,
                "g_params": self.g_params, "steps": self.steps, "seed": self.seed, "config": self.config.to_dict(),
                "architecture": self.config.describe(), "final": self.final.to_dict(), "train_s": self.train_s,
                "threads": self.threads,
                "snapshots": None if self.snapshots is None else [x.to_dict() for x in self.snapshots],
                "settled": None if self.horizon is None else self.horizon.settled,
                "horizon": None if self.horizon is None else self.horizon.to_dict()}


def train_sized_gan(target: GaussianMixtureTarget, *, steps: int, seed: int, d_width: int, d_depth: int = 2,
                    config: LabConfig | None = None, device: torch.device | str = "cpu", n_eval: int = 2500,
                    eval_every: int | None = None, settle: SettleRule | None = None,
                    progress: bool = False) -> SizedRun:
    """Train :class:`SizedGAN` on ``target`` for ``steps`` generator updates and score it with
    :func:`~ganlimits.verify.lab.mode_metrics` on ``n_eval`` samples.

    Without ``eval_every`` and ``settle``: ``steps`` updates, then one score on the stream ``"eval"``. With
    ``eval_every``: snapshots every ``eval_every`` steps on the streams ``("eval", step)`` (the lab's trainer's), the
    run's horizon assessed by the default :class:`~ganlimits.verify.lab.regime.SettleRule`; with ``settle`` the run
    trains until that rule holds, ``steps`` being the cap (:func:`~ganlimits.verify.lab.train_until_settled`, constant
    schedule only; ``eval_every`` default ``steps // 10``). Every argument is checked before training: a bad one is
    a ``ValueError`` naming it.

    >>> from ganlimits.constructions import grid
    >>> r = train_sized_gan(grid(), steps=10, seed=0, d_width=4, config=LabConfig(width=8, batch_size=16),
    ...                     n_eval=50)
    >>> r.d_params, r.generator(torch.zeros(2, 16)).shape
    (37, torch.Size([2, 2]))
    """
    if not isinstance(target, GaussianMixtureTarget):
        raise ValueError(f"target must be a GaussianMixtureTarget, got {type(target).__name__}")
    steps = check_number("steps", steps, low=1, integer=True)
    seed = check_seed("seed", seed)
    d_width = check_number("d_width", d_width, low=1, integer=True)
    d_depth = check_number("d_depth", d_depth, low=1, integer=True)
    config = LabConfig() if config is None else config
    if not isinstance(config, LabConfig):
        raise ValueError(f"config must be a LabConfig, got {type(config).__name__}")
    n_eval = check_number("n_eval", n_eval, low=1, integer=True)
    if eval_every is not None:
        eval_every = check_number("eval_every", eval_every, low=1, integer=True)
    if settle is not None:
        if not isinstance(settle, SettleRule):
            raise ValueError(f"settle must be a SettleRule or None, got {type(settle).__name__}")
        if config.lr_schedule != "constant":
            raise ValueError(f"lr_schedule must be 'constant' to train to a settled horizon, got "
                             f"{config.lr_schedule!r}")
    dev = check_device(device)

    streams = Streams(seed)
    method = SizedGAN(d_width=d_width, d_depth=d_depth, data_dim=target.dim, config=config,
                      generator=streams.torch("init"), device=dev)
    desc = f"GAN, D {d_depth}x{d_width}"
    snapshots = horizon = None
    if eval_every is None and settle is None:
        data_gen, noise_gen = streams.torch("data"), streams.torch("noise")
        start = time.perf_counter()
        run_steps(method, target, steps=steps, config=config, data_gen=data_gen, noise_gen=noise_gen, device=dev,
                  progress=progress, desc=desc)
        train_s = time.perf_counter() - start
        G = method.generator_callable()
        x_eval, _ = G.sample(n_eval, generator=streams.torch("eval"))
        final = mode_metrics(x_eval, target)
    else:
        every = eval_every if eval_every is not None else max(1, steps // 10)

        def score(step, losses):
            with torch.no_grad():
                z = torch.randn(n_eval, config.noise_dim, generator=streams.torch("eval", step))
                x = method.G(z.to(dev))
            return score_samples(x, target, step, None, losses)

        run = train_to_horizon(method, target, steps=steps, eval_every=every, streams=streams, config=config,
                               device=dev, score=score, settle=settle, progress=progress, desc=desc)
        snapshots, final, train_s, horizon = run.snapshots, run.final, run.train_s, run.horizon
        G = method.generator_callable()
    return SizedRun(d_width=d_width, d_depth=d_depth,
                    d_params=sum(p.numel() for p in method.D.parameters()),
                    g_params=sum(p.numel() for p in method.G.parameters()),
                    steps=steps if horizon is None else horizon.steps, seed=seed, config=config, final=final,
                    generator=G, train_s=train_s, threads=torch.get_num_threads(), snapshots=snapshots,
                    horizon=horizon)
