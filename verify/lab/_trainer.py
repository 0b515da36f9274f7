"""The lab's trainer: one seeded, deterministic training run of one method on one target, with evaluation
snapshots, returning the trained generator (and encoder) as callables (``docs/papers/veegan.md``).

Randomness: four named streams of :class:`~ganlimits.verify.runs.Streams` from the run's ``seed`` — ``"init"`` (initial
weights), ``"data"`` (real minibatches), ``"noise"`` (the method's noise draws), ``("eval", step)`` (the samples
scored at a snapshot). A run is bit-identical for a fixed seed, thread count and device; with the constant
learning-rate schedule (the lab's default, the papers') the first k steps of a longer run are the k steps of a
shorter one, so a run trained to a settled horizon (:func:`train_until_settled`, :class:`SettleRule`) is the prefix
of the run trained to its cap. Real minibatches are drawn ``_CHUNK_STEPS`` steps at a time (one vectorised draw
from the target instead of one per step).

Shape letters: ``n`` samples, ``d`` data dimension, ``d_code`` noise dimension.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from tqdm import tqdm

from ganlimits.constructions import GaussianMixtureTarget, grid, mixture_1200d, ring
from ganlimits.theory import check_number, check_seed

from .._streams import Streams
from ._gan_joint import ALI, VEEGAN, BiGAN
from ._gan_steps import WGANGP, LabMethod, PacGAN, VanillaGAN
from ._gan_unrolled import UnrolledGAN
from ._horizon import Horizon, SettleRule, assess_horizon
from ._mode_metrics import ModeMetrics, mode_metrics
from ._models import LabConfig, LabEncoder, LabGenerator
from ._stack import draw_reals

__all__ = ["MODELS", "MODEL_LABELS", "LAB_TARGETS", "lab_target", "build_method", "check_device", "Snapshot",
           "TrainResult", "train_gan", "run_steps", "train_with_snapshots", "train_until_settled", "SettledTraining",
           "score_samples"]

MODELS = ("gan", "ali", "unrolled", "veegan", "pacgan2", "pacgan4", "wgan-gp")
"""The lab's methods of the mode-collapse benchmarks, by the name :func:`train_gan` takes (it also takes
``"bigan"``: ALI's game with a deterministic encoder)."""

MODEL_LABELS = {"gan": "GAN", "ali": "ALI", "unrolled": "Unrolled GAN", "veegan": "VEEGAN", "pacgan2": "PacGAN2",
                "pacgan4": "PacGAN4", "wgan-gp": "WGAN-GP", "bigan": "BiGAN"}

LAB_TARGETS = ("ring", "grid", "mixture_1200d")
"""VEEGAN's three synthetic targets, by name."""

_CLASSES = {"gan": VanillaGAN, "ali": ALI, "bigan": BiGAN, "unrolled": UnrolledGAN, "veegan": VEEGAN,
            "wgan-gp": WGANGP}
_PACKS = {"pacgan2": 2, "pacgan4": 4}
_CHUNK_STEPS = 25


def lab_target(name: str, *, ring_radius: float = 1.0, ring_std: float = 0.01, grid_std: float = 0.05,
               mixture_std: float = 1.0) -> GaussianMixtureTarget:
    """VEEGAN's target ``name`` with PacGAN's pinned constants by default: ``"ring"`` 8 distinct modes at
    ``ring_radius * (cos 2 pi i/8, sin 2 pi i/8)``, std ``ring_std`` (1 and 0.01); ``"grid"`` 25 modes at
    {-4, -2, 0, 2, 4}^2, std ``grid_std`` (0.05); ``"mixture_1200d"`` 10 components in R^1200 with std
    ``mixture_std`` (1) on the first 700 coordinates.

    >>> lab_target("ring").description
    '8 equally weighted Gaussians (std 0.01) on a circle of radius 1 in R^2'
    """
    if name == "ring":
        return ring(n_modes=8, radius=ring_radius, std=ring_std)
    if name == "grid":
        return grid(std=grid_std)
    if name == "mixture_1200d":
        return mixture_1200d(std=mixture_std)
    raise ValueError(f"target must be one of {', '.join(map(repr, LAB_TARGETS))} or a GaussianMixtureTarget; "
                     f"got {name!r}")


def check_device(device) -> torch.device:
    """``device`` as a ``torch.device`` that exists on this machine; ``ValueError`` naming it otherwise."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(f"device must name a torch device such as 'cpu' or 'cuda:0', got {device!r}") from None
    try:
        torch.empty(1, device=dev)
    except Exception as exc:  # torch raises RuntimeError or AssertionError depending on the backend
        raise ValueError(f"device {str(device)!r} is not available on this machine: "
                         f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    return dev


def build_method(model: str, *, data_dim: int, config: LabConfig, generator: torch.Generator,
                 device: torch.device | str = "cpu") -> LabMethod:
    """A fresh instance of method ``model`` (one of :data:`MODELS`) with weights drawn from ``generator``."""
    if model not in MODEL_LABELS:
        raise ValueError(f"model must be one of {', '.join(map(repr, MODELS))}; got {model!r}")
    if model in _PACKS:
        return PacGAN(pack=_PACKS[model], data_dim=data_dim, config=config, generator=generator, device=device)
    return _CLASSES[model](data_dim=data_dim, config=config, generator=generator, device=device)


@dataclass(frozen=True)
class Snapshot:
    """Scores of the generator after ``step`` steps (2,500 fresh samples by default), the losses of that step (NaN
    at step 0) and the median distance of the samples to their nearest mean (in std)."""

    step: int
    modes: int
    high_quality: float
    reverse_kl: float
    loss_d: float
    loss_g: float
    median_distance: float = math.nan

    def to_dict(self) -> dict:
        return {"step": self.step, "modes": self.modes, "high_quality": self.high_quality,
                "reverse_kl": self.reverse_kl, "loss_d": self.loss_d, "loss_g": self.loss_g,
                "median_distance": self.median_distance}


@dataclass
class TrainResult:
    """One training run: what was trained, how, its scores over training and at the end, and the trained
    networks as callables (``generator``: z -> x; ``encoder``: x -> z for ALI, BiGAN and VEEGAN, else None), and
    its ``horizon`` (:class:`~ganlimits.verify.lab.regime.Horizon`: steps trained, whether and when it settled)."""

    model: str
    label: str
    objective: str
    target: str
    steps: int
    seed: int
    config: LabConfig
    snapshots: list[Snapshot]
    final: ModeMetrics
    generator: LabGenerator
    encoder: LabEncoder | None
    elapsed_s: float
    train_s: float
    threads: int
    device: str
    n_params: dict[str, int] = field(default_factory=dict)
    horizon: Horizon | None = None

    @property
    def settled(self) -> bool | None:
        """Whether the run had settled at its last snapshot (None without a horizon)."""
        return None if self.horizon is None else self.horizon.settled

    @property
    def settled_step(self) -> int | None:
        """The step from which the run stayed settled (None when it did not settle)."""
        return None if self.horizon is None else self.horizon.settled_step

    @property
    def steps_per_s(self) -> float:
        """Training steps per second, evaluation snapshots excluded."""
        return self.steps / self.train_s if self.train_s > 0 else math.inf

    def to_dict(self) -> dict:
        """Everything but the callables, as plain JSON-ready values."""
        return {"model": self.model, "label": self.label, "objective": self.objective, "target": self.target,
                "steps": self.steps, "seed": self.seed, "config": self.config.to_dict(),
                "architecture": self.config.describe(), "snapshots": [s.to_dict() for s in self.snapshots],
                "final": self.final.to_dict(), "elapsed_s": self.elapsed_s, "train_s": self.train_s,
                "steps_per_s": self.steps_per_s, "threads": self.threads, "device": self.device,
                "n_params": self.n_params, "settled": self.settled, "settled_step": self.settled_step,
                "horizon": None if self.horizon is None else self.horizon.to_dict()}


def score_samples(x: torch.Tensor, target, step: int, threshold, losses) -> tuple[Snapshot, ModeMetrics]:
    """The snapshot at ``step`` of generated samples ``x``: VEEGAN's metrics against ``target`` and the last losses
    (NaN before the first step)."""
    m = mode_metrics(x, target, threshold=threshold)
    loss_d, loss_g = (math.nan, math.nan) if losses is None else (float(losses[0]), float(losses[1]))
    return Snapshot(step, m.modes, m.high_quality, m.reverse_kl, loss_d, loss_g, m.median_distance), m


def _snapshot(method: LabMethod, target, step: int, streams: Streams, n_eval: int, threshold, losses) -> Snapshot:
    with torch.no_grad():
        z = torch.randn(n_eval, method.config.noise_dim, generator=streams.torch("eval", step))
        x = method.G(z.to(method.device))
    return score_samples(x, target, step, threshold, losses)


def run_steps(method: LabMethod, target, *, steps: int, config: LabConfig,
              data_gen: torch.Generator | Sequence[torch.Generator],
              noise_gen: torch.Generator | Sequence[torch.Generator],
              device: torch.device | str = "cpu", progress: bool = False, desc: str = "",
              on_step: Callable[[int, object], bool | None] | None = None) -> float:
    """The lab's one training loop, shared by every trainer: ``steps`` updates of ``method`` on minibatches of
    ``target`` (anything with ``sample(n, generator=) -> (x, _)``), fewer when ``on_step`` asks to stop. For a
    stack of S runs (``method.stack``), ``data_gen`` and ``noise_gen`` are sequences of S generators, run s's own
    (:mod:`~ganlimits.verify.lab._stack`).

    Real minibatches are drawn ``_CHUNK_STEPS`` steps at a time from ``data_gen`` (one vectorised draw, in the
    networks' dtype, float32, on ``device``); before each step the learning rates follow ``config.lr_schedule``
    (``"linear"``: the base rate times ``1 - done / steps``); ``method.step(x, noise_gen)`` does one update.
    ``on_step(done, losses)`` is called after every step (snapshots); when it returns True training stops after that
    step (a settled horizon). The seconds the calls took are returned, so that callers can report training time
    alone.
    """
    r = method.reals_per_step
    dtype = next(method.G.parameters()).dtype  # float32 unless the networks were built under another default dtype
    optimizers = method.optimizers()
    base_lr = [[g["lr"] for g in opt.param_groups] for opt in optimizers]
    linear = config.lr_schedule == "linear"
    bar = tqdm(total=steps, desc=desc, disable=None if progress else True, leave=False)
    done, hook_s = 0, 0.0
    while done < steps:
        batch = min(_CHUNK_STEPS, steps - done)
        xs = draw_reals(target, _CHUNK_STEPS * r, data_gen, dtype=dtype).to(device)
        for k in range(batch):
            if linear:
                factor = 1.0 - done / steps
                for opt, lrs in zip(optimizers, base_lr, strict=True):
                    for group, lr in zip(opt.param_groups, lrs, strict=True):
                        group["lr"] = lr * factor
            losses = method.step(xs[..., k * r:(k + 1) * r, :], noise_gen)
            done += 1
            if on_step is not None:
                t0 = time.perf_counter()
                stop = on_step(done, losses)
                hook_s += time.perf_counter() - t0
                if stop:
                    bar.update(k + 1)
                    bar.close()
                    return hook_s
        bar.update(batch)
    bar.close()
    return hook_s


def train_with_snapshots(method: LabMethod, target, *, steps: int, eval_every: int, streams: Streams,
                         config: LabConfig, device: torch.device, progress: bool, desc: str,
                         score: Callable[[int, object], tuple[Snapshot, ModeMetrics]]
                         ) -> tuple[list[Snapshot], ModeMetrics, float]:
    """:func:`run_steps` with the streams ``"data"`` and ``"noise"`` of ``streams``, scored by ``score(step,
    losses)`` at step 0, every ``eval_every`` steps and the last step. Returns the snapshots, the last metrics and
    the training seconds (snapshots excluded)."""
    snapshots = [score(0, None)[0]]
    final = None

    def on_step(done: int, losses) -> None:
        nonlocal final
        if done % eval_every == 0 or done == steps:
            snap, final = score(done, losses)
            snapshots.append(snap)

    loop_start = time.perf_counter()
    eval_s = run_steps(method, target, steps=steps, config=config, data_gen=streams.torch("data"),
                       noise_gen=streams.torch("noise"), device=device, progress=progress, desc=desc, on_step=on_step)
    return snapshots, final, time.perf_counter() - loop_start - eval_s


@dataclass
class SettledTraining:
    """What :func:`train_until_settled` returns: the snapshots (step 0 first), the last metrics, the training
    seconds (snapshots excluded) and the :class:`~ganlimits.verify.lab.regime.Horizon`."""

    snapshots: list[Snapshot]
    final: ModeMetrics
    train_s: float
    horizon: Horizon


def train_until_settled(method: LabMethod, target, *, cap: int, eval_every: int, streams: Streams,
                        config: LabConfig, device: torch.device, score: Callable[[int, object],
                                                                                 tuple[Snapshot, ModeMetrics]],
                        rule: SettleRule, n_modes: int | None = None, progress: bool = False,
                        desc: str = "") -> SettledTraining:
    """Train ``method`` in snapshots until they have settled by ``rule``
    (:class:`~ganlimits.verify.lab.regime.SettleRule`) or ``cap`` steps: :func:`run_steps` with the streams ``"data"``
    and ``"noise"`` of ``streams``, scored by
    ``score(step, losses)`` at step 0, every ``eval_every`` steps and the last step; training stops at the first
    snapshot where the rule holds. The method may be any :class:`LabMethod` (the lab's GANs, MIX+GAN, a GAN with a
    sized discriminator) and ``score`` any function returning ``(Snapshot, ModeMetrics)`` (e.g. built on
    :func:`score_samples`). ``n_modes`` is the target's number of components (default ``target.n_components``).

    The learning-rate schedule must be constant (a decaying schedule depends on the cap, so its prefix is not a
    shorter run): otherwise a ``ValueError`` naming ``lr_schedule``.
    """
    if config.lr_schedule != "constant":
        raise ValueError(f"lr_schedule must be 'constant' to train to a settled horizon (a linear decay depends on "
                         f"the cap), got {config.lr_schedule!r}")
    cap = check_number("cap", cap, low=1, integer=True)
    eval_every = check_number("eval_every", eval_every, low=1, integer=True)
    if not isinstance(rule, SettleRule):
        raise ValueError(f"rule must be a SettleRule, got {type(rule).__name__}")
    K = int(target.n_components if n_modes is None else n_modes)
    snapshots = [score(0, None)[0]]
    final = None
    stopped = False

    def on_step(done: int, losses) -> bool:
        nonlocal final, stopped
        if done % eval_every == 0 or done == cap:
            snap, final = score(done, losses)
            snapshots.append(snap)
            if done < cap and rule.holds(snapshots, n_modes=K):
                stopped = True
                return True
        return False

    loop_start = time.perf_counter()
    eval_s = run_steps(method, target, steps=cap, config=config, data_gen=streams.torch("data"),
                       noise_gen=streams.torch("noise"), device=device, progress=progress, desc=desc, on_step=on_step)
    train_s = time.perf_counter() - loop_start - eval_s
    horizon = assess_horizon(snapshots, rule=rule, n_modes=K, cap=cap, stopped_early=stopped)
    return SettledTraining(snapshots, final, train_s, horizon)


def train_to_horizon(method: LabMethod, target, *, steps: int, eval_every: int, streams: Streams,
                     config: LabConfig, device: torch.device, score, settle: SettleRule | None,
                     progress: bool = False, desc: str = "") -> SettledTraining:
    """Train ``method`` for ``steps`` steps in snapshots (``settle=None``; the horizon is then assessed by the
    default :class:`~ganlimits.verify.lab.regime.SettleRule`) or until the snapshots settle by ``settle`` with
    ``steps`` as the cap (:func:`train_until_settled`): the one place the lab's trainers choose between the two."""
    if settle is None:
        snapshots, final, train_s = train_with_snapshots(
            method, target, steps=steps, eval_every=eval_every, streams=streams, config=config, device=device,
            progress=progress, desc=desc, score=score)
        horizon = assess_horizon(snapshots, rule=SettleRule(), n_modes=target.n_components, cap=steps)
        return SettledTraining(snapshots=snapshots, final=final, train_s=train_s, horizon=horizon)
    return train_until_settled(method, target, cap=steps, eval_every=eval_every, streams=streams, config=config,
                               device=device, score=score, rule=settle, progress=progress, desc=desc)


def train_gan(model: str, target: GaussianMixtureTarget | str, *, steps: int, seed: int,
              config: LabConfig | None = None, device: torch.device | str = "cpu", eval_every: int | None = None,
              n_eval: int = 2500, threshold: float | None = None, settle: SettleRule | None = None,
              progress: bool = False) -> TrainResult:
    """Train method ``model`` on ``target`` for ``steps`` generator updates (or until settled) and score it.

    ``model``: one of :data:`MODELS`; ``target``: a :class:`~ganlimits.constructions.GaussianMixtureTarget` or one
    of :data:`LAB_TARGETS` (built by :func:`lab_target` with PacGAN's constants); ``seed``: the run's master seed
    (streams in the module docstring); ``config``: the shared :class:`LabConfig` (default ``LabConfig()``);
    ``device``: where the networks live (checked to exist before anything is built); ``eval_every``: steps between
    snapshots (default ``steps // 10``; step 0 and the last step are always scored); ``n_eval`` samples per
    snapshot (VEEGAN's 2,500); ``threshold`` the high-quality radius in std (default the lab's, see
    :func:`~ganlimits.verify.lab.mode_metrics`); ``settle`` a :class:`~ganlimits.verify.lab.regime.SettleRule`: train
    until it holds, with ``steps`` the cap (:func:`train_until_settled`; constant schedule only); without it the
    run trains ``steps`` steps and its ``horizon`` says whether the default ``SettleRule()`` held at the end;
    ``progress`` a tqdm bar (silent when not a terminal).

    Every argument is checked before training starts: a bad one is a ``ValueError`` naming it.

    >>> r = train_gan("gan", "ring", steps=20, seed=0, config=LabConfig(width=16, batch_size=32), n_eval=100)
    >>> r.steps, [s.step for s in r.snapshots], r.generator(torch.zeros(3, 16)).shape
    (20, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20], torch.Size([3, 2]))
    >>> r.horizon.cap, r.settled  # 20 steps at the diffuse level: not settled by the default rule
    (20, False)
    """
    if not isinstance(model, str) or model not in MODEL_LABELS:
        raise ValueError(f"model must be one of {', '.join(map(repr, MODELS))}; got {model!r}")
    if isinstance(target, str):
        target = lab_target(target)
    elif not isinstance(target, GaussianMixtureTarget):
        raise ValueError(f"target must be one of {', '.join(map(repr, LAB_TARGETS))} or a GaussianMixtureTarget; "
                         f"got {type(target).__name__}")
    steps = check_number("steps", steps, low=1, integer=True)
    seed = check_seed("seed", seed)
    config = LabConfig() if config is None else config
    if not isinstance(config, LabConfig):
        raise ValueError(f"config must be a LabConfig, got {type(config).__name__}")
    eval_every = max(1, steps // 10) if eval_every is None else check_number("eval_every", eval_every, low=1,
                                                                              integer=True)
    n_eval = check_number("n_eval", n_eval, low=1, integer=True)
    if threshold is not None:
        check_number("threshold", threshold, low=0, low_open=True)
    mode_metrics(target.means[:1], target, threshold=threshold)  # the metric accepts this target (raises if not)
    if settle is not None:
        if not isinstance(settle, SettleRule):
            raise ValueError(f"settle must be a SettleRule or None, got {type(settle).__name__}")
        if config.lr_schedule != "constant":
            raise ValueError(f"lr_schedule must be 'constant' to train to a settled horizon, got "
                             f"{config.lr_schedule!r}")
    dev = check_device(device)

    start = time.perf_counter()
    streams = Streams(seed)
    method = build_method(model, data_dim=target.dim, config=config, generator=streams.torch("init"), device=dev)
    desc = f"{method.label} on {target.dim}-D"

    def score(step, losses):
        return _snapshot(method, target, step, streams, n_eval, threshold, losses)

    run = train_to_horizon(method, target, steps=steps, eval_every=eval_every, streams=streams, config=config,
                           device=dev, score=score, settle=settle, progress=progress, desc=desc)
    snapshots, final, train_s, horizon = run.snapshots, run.final, run.train_s, run.horizon
    elapsed = time.perf_counter() - start
    n_params = {role: sum(p.numel() for p in net.parameters()) for role, net in method.networks().items()}
    return TrainResult(model=model, label=MODEL_LABELS[model], objective=method.objective,
                       target=target.description, steps=horizon.steps, seed=seed, config=config,
                       snapshots=snapshots, final=final, generator=method.generator_callable(),
                       encoder=method.encoder_callable(), elapsed_s=elapsed, train_s=train_s,
                       threads=torch.get_num_threads(), device=str(dev), n_params=n_params, horizon=horizon)
