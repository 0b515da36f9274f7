r"""The stacked trainer: S seeded runs of one lab method trained as one network with batched weights, giving each
run the numbers :func:`~ganlimits.verify.lab.train_gan` gives it alone (``docs/papers/veegan.md``).

Why. A lab table is many small runs (seeds x models x targets); one small MLP step spends much of its time in
per-operation overhead rather than arithmetic. A stack of S runs does every operation once for all S
(:mod:`~ganlimits.verify.lab._stack`: weights (S, out, in), one ``baddbmm`` per layer, one fused Adam step over
the stacked tensors), so the overhead is paid once per step instead of S times (``benchmarks/bench_lab.py``
prints the ratio).

Same numbers. Run s of the stack draws everything from its own :class:`~ganlimits.verify.runs.Streams` (``seeds[s]``)
exactly as the one-by-one trainer does: ``"init"`` (its networks, in the method's order), ``"data"`` (real
minibatches, a chunk of steps at a time), ``"noise"`` (the method's draws, in the step's order), ``("eval", step)``
(the snapshot's samples). Each run's loss is its own mean over its own minibatch; the stack backpropagates the sum
of the S losses, so run s's parameters get the gradient of run s's loss, unscaled, and Adam, being elementwise,
makes the same update as it would alone. What differs is float rounding only: a batched product may sum in another
order than the one-run product (``torch.bmm`` against ``addmm`` / ``mv``), so results agree to float32 rounding at
first and may drift apart later in training, as any two runs that differ in the last bit do: a unit whose input is
within rounding of 0 is active in one run and not in the other, one sample's gradient differs, and Adam, which
divides by the root of a weight's running squared gradient, turns that into a visibly different step for a weight
whose gradients have been small (measured on GAN seed 2 at the default width on the grid: at step 23 one
discriminator unit's input was 3e-8 in the stack and exactly 0 alone, one generator weight's gradient came out 4%
apart and the weight 2e-5 apart, while every other weight was within 1e-7); training then amplifies the
difference. Such an event comes at a random step: the other four of five seeds met none in 100 steps; at width 32
after 300 steps some runs of every method differ by up to a few percent of the generator's output. Networks built in
float64 (under ``torch.set_default_dtype(torch.float64)``) show that this is rounding only: the stack and the loop
then agree to 1e-13 after 300 steps on every method (``tests/verify/lab/test_stacked.py``).

Shape letters: ``S`` runs in the stack, ``n`` samples, ``d`` data dimension, ``d_code`` noise dimension.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from ganlimits.constructions import GaussianMixtureTarget
from ganlimits.theory import check_allocation, check_number, check_seed

from .._streams import Streams
from . import _mixgan
from ._gan_steps import LabMethod
from ._horizon import SettleRule, assess_horizon
from ._mixgan import MixGAN, MixTrainResult, component_width, mixgan_budget
from ._mode_metrics import ModeMetrics, mode_metrics
from ._models import LabConfig
from ._sized_gan import SizedGAN, SizedRun
from ._trainer import (
    _CHUNK_STEPS,
    _PACKS,
    LAB_TARGETS,
    MODEL_LABELS,
    MODELS,
    Snapshot,
    TrainResult,
    build_method,
    check_device,
    lab_target,
    run_steps,
    score_samples,
)

__all__ = ["StackInfo", "StackedTrainResult", "StackedSizedRun", "StackedMixTrainResult", "train_stacked",
           "train_sized_stacked", "train_mixgan_stacked"]


def check_seeds(seeds) -> tuple[int, ...]:
    """``seeds`` as a tuple of distinct seeds (each checked as a seed); ``ValueError`` naming ``seeds`` otherwise.

    >>> check_seeds(range(3))
    (0, 1, 2)
    """
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, (Sequence, range)):
        raise ValueError(f"seeds must be a non-empty sequence of distinct seeds, got {type(seeds).__name__}")
    out = tuple(check_seed("seeds", s) for s in seeds)
    if not out or len(set(out)) != len(out):
        raise ValueError(f"seeds must be a non-empty sequence of distinct seeds, got {list(seeds)!r}")
    return out


def _check_target(target) -> GaussianMixtureTarget:
    if isinstance(target, str):
        if target not in LAB_TARGETS:
            raise ValueError(f"target must be one of {', '.join(map(repr, LAB_TARGETS))} or a "
                             f"GaussianMixtureTarget; got {target!r}")
        return lab_target(target)
    if not isinstance(target, GaussianMixtureTarget):
        raise ValueError(f"target must be one of {', '.join(map(repr, LAB_TARGETS))} or a GaussianMixtureTarget; "
                         f"got {type(target).__name__}")
    return target


def _check_config(config) -> LabConfig:
    config = LabConfig() if config is None else config
    if not isinstance(config, LabConfig):
        raise ValueError(f"config must be a LabConfig, got {type(config).__name__}")
    return config


def _check_memory(S: int, *, reals_per_step: int, dim: int, n_eval: int, width: int) -> None:
    """The largest float32 arrays of a stack: a chunk of real data for every run, a snapshot's hidden layer."""
    check_allocation("seeds", S, itemsize=4,
                     elements=S * max(_CHUNK_STEPS * reals_per_step * dim, n_eval * max(width, dim)))


@dataclass(kw_only=True)
class StackInfo:
    """How a run was trained in a stack: ``stack_seeds`` the seeds trained together (this run's among them) and
    ``stack_train_s`` the stack's training seconds. The run's own timings (``train_s``, ``elapsed_s``) are its share,
    the stack's divided by its size, so that a rate per run means model-steps per second."""

    stack_seeds: tuple[int, ...] = ()
    stack_train_s: float = 0.0

    def stack_dict(self) -> dict:
        return {"stack": {"seeds": list(self.stack_seeds), "size": len(self.stack_seeds),
                          "train_s": self.stack_train_s}}


@dataclass
class StackedTrainResult(TrainResult, StackInfo):
    """A :class:`~ganlimits.verify.lab.TrainResult` of one run of a stack (:class:`StackInfo`)."""

    def to_dict(self) -> dict:
        return super().to_dict() | self.stack_dict()


@dataclass
class StackedSizedRun(SizedRun, StackInfo):
    """A :class:`~ganlimits.verify.lab.SizedRun` of one run of a stack (:class:`StackInfo`)."""

    def to_dict(self) -> dict:
        return super().to_dict() | self.stack_dict()


@dataclass
class StackedMixTrainResult(MixTrainResult, StackInfo):
    """A :class:`~ganlimits.verify.lab.MixTrainResult` of one run of a stack (:class:`StackInfo`)."""

    def to_dict(self) -> dict:
        return super().to_dict() | self.stack_dict()


@dataclass
class StackRun:
    """What :func:`run_stack` returns, per run of the stack: the snapshots (step 0 first), the last metrics, the
    run's method as one run (:meth:`~ganlimits.verify.lab.LabMethod.unstack`, taken when the run stopped) and
    whether it stopped early because it settled; and the stack's training seconds (snapshots excluded)."""

    snapshots: list[list[Snapshot]]
    finals: list[ModeMetrics | None]
    runs: list[LabMethod]
    stopped: list[bool]
    train_s: float


def run_stack(method: LabMethod, target, *, steps: int, streams: Sequence[Streams], config: LabConfig,
              device: torch.device, progress: bool, desc: str, eval_every: int | None = None,
              score: Callable[[int, object], list[tuple[Snapshot, ModeMetrics]]] | None = None,
              settle: SettleRule | None = None, n_modes: int | None = None) -> StackRun:
    """The stack's training: :func:`~ganlimits.verify.lab.run_steps` with each run's streams ``"data"`` and
    ``"noise"``, and (when ``score`` is given) each run's snapshots ``score(step, losses)`` at step 0, every
    ``eval_every`` steps and the last, as :func:`~ganlimits.verify.lab.train_with_snapshots` takes them for one run.
    With a ``settle`` rule (:class:`~ganlimits.verify.lab.regime.SettleRule`, for a target of ``n_modes`` components) a
    run stops as :func:`~ganlimits.verify.lab.train_until_settled` stops it — at the first snapshot before ``steps``
    where the rule holds — by keeping its networks and snapshots as they are then; the stack trains on until every
    run has stopped or the cap (a stopped run's later steps change nothing of the others', the constant learning
    rate keeps its own prefix)."""
    S = len(streams)
    snapshots: list[list[Snapshot]] = [[] for _ in range(S)]
    finals: list[ModeMetrics | None] = [None] * S
    runs: list[LabMethod | None] = [None] * S

    def keep(step, losses) -> bool:
        for s, (snap, m) in enumerate(score(step, losses)):
            if runs[s] is not None:
                continue
            snapshots[s].append(snap)
            finals[s] = m
            if settle is not None and 0 < step < steps and settle.holds(snapshots[s], n_modes=n_modes):
                runs[s] = method.unstack(s)
        return all(r is not None for r in runs)

    if score is not None:
        keep(0, None)

    def on_step(done: int, losses) -> bool:
        return (done % eval_every == 0 or done == steps) and keep(done, losses)

    loop_start = time.perf_counter()
    eval_s = run_steps(method, target, steps=steps, config=config, data_gen=[st.torch("data") for st in streams],
                       noise_gen=[st.torch("noise") for st in streams], device=device, progress=progress, desc=desc,
                       on_step=None if score is None else on_step)
    train_s = time.perf_counter() - loop_start - eval_s
    stopped = [r is not None for r in runs]
    return StackRun(snapshots, finals, [r if r is not None else method.unstack(s) for s, r in enumerate(runs)],
                    stopped, train_s)


def _run_losses(losses, s: int):
    """Run ``s``'s (loss_d, loss_g) from the stack's two (S,) loss vectors (None before the first step)."""
    return None if losses is None else (losses[0][s], losses[1][s])


def stacked_scores(method: LabMethod, target, step: int, streams: Sequence[Streams], n_eval: int, threshold,
                   losses) -> list[tuple[Snapshot, ModeMetrics]]:
    """Each run's snapshot at ``step``: ``n_eval`` samples of its generator from its noise ``("eval", step)``, scored
    by :func:`~ganlimits.verify.lab.score_samples` with its own losses (``losses``: two (S,) tensors, or None)."""
    with torch.no_grad():
        z = torch.stack([torch.randn(n_eval, method.config.noise_dim, generator=st.torch("eval", step))
                         for st in streams])
        x = method.G(z.to(method.device))
    return [score_samples(x[s], target, step, threshold, _run_losses(losses, s)) for s in range(len(streams))]


def _eval_every(eval_every, steps: int) -> int:
    if eval_every is None:
        return max(1, steps // 10)
    return check_number("eval_every", eval_every, low=1, integer=True)


def train_stacked(model: str, target: GaussianMixtureTarget | str, *, steps: int, seeds: Sequence[int],
                  config: LabConfig | None = None, device: torch.device | str = "cpu", eval_every: int | None = None,
                  n_eval: int = 2500, threshold: float | None = None, settle: SettleRule | None = None,
                  progress: bool = False) -> list[StackedTrainResult]:
    """Train method ``model`` on ``target`` once per seed in ``seeds``, all runs as one stacked network, and score
    each: result s has the numbers of ``train_gan(model, target, steps=steps, seed=seeds[s], ...)`` up to float
    rounding (module docstring), in the order of ``seeds``.

    Arguments as :func:`~ganlimits.verify.lab.train_gan` (``model`` one of :data:`MODELS` or ``"bigan"``;
    ``target`` a :class:`~ganlimits.constructions.GaussianMixtureTarget` or one of :data:`LAB_TARGETS`; ``device``
    where the stack lives, e.g. ``"cuda"``; snapshots at step 0, every ``eval_every`` steps and the last; ``settle``
    a :class:`~ganlimits.verify.lab.regime.SettleRule`: each run trains until it holds for that run, ``steps`` the cap,
    and its result is taken there — the stack trains until every run has settled or the cap), with ``seeds`` a
    non-empty sequence of distinct seeds, the stack's size S. Memory grows with S: the stack holds S copies of
    every network and draws S chunks of real data at a time. Every argument is checked before training: a bad one
    is a ``ValueError`` naming it.

    >>> rs = train_stacked("gan", "ring", steps=20, seeds=[0, 1], config=LabConfig(width=16, batch_size=32),
    ...                    n_eval=100)
    >>> [r.seed for r in rs], [s.step for s in rs[0].snapshots][-2:], rs[1].generator(torch.zeros(3, 16)).shape
    ([0, 1], [18, 20], torch.Size([3, 2]))
    """
    if not isinstance(model, str) or model not in MODEL_LABELS:
        raise ValueError(f"model must be one of {', '.join(map(repr, MODELS))}; got {model!r}")
    target = _check_target(target)
    steps = check_number("steps", steps, low=1, integer=True)
    seeds = check_seeds(seeds)
    config = _check_config(config)
    eval_every = _eval_every(eval_every, steps)
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
    S = len(seeds)
    _check_memory(S, reals_per_step=config.batch_size * (config.n_critic if model == "wgan-gp" else
                                                         _PACKS.get(model, 1)),
                  dim=target.dim, n_eval=n_eval, width=config.width)
    dev = check_device(device)

    start = time.perf_counter()
    streams = [Streams(s) for s in seeds]
    method = build_method(model, data_dim=target.dim, config=config,
                          generator=[st.torch("init") for st in streams], device=dev)
    K = target.n_components
    run = run_stack(
        method, target, steps=steps, streams=streams, config=config, device=dev, progress=progress,
        desc=f"{S} x {MODEL_LABELS[model]} on {target.dim}-D", eval_every=eval_every,
        score=lambda step, losses: stacked_scores(method, target, step, streams, n_eval, threshold, losses),
        settle=settle, n_modes=K)
    elapsed = time.perf_counter() - start
    out = []
    for s, one in enumerate(run.runs):
        horizon = assess_horizon(run.snapshots[s], rule=SettleRule() if settle is None else settle, n_modes=K,
                                 cap=steps, stopped_early=run.stopped[s])
        n_params = {role: sum(p.numel() for p in net.parameters()) for role, net in one.networks().items()}
        out.append(StackedTrainResult(
            model=model, label=MODEL_LABELS[model], objective=method.objective, target=target.description,
            steps=horizon.steps, seed=seeds[s], config=config, snapshots=run.snapshots[s], final=run.finals[s],
            generator=one.generator_callable(), encoder=one.encoder_callable(), elapsed_s=elapsed / S,
            train_s=run.train_s / S, threads=torch.get_num_threads(), device=str(dev), n_params=n_params,
            horizon=horizon, stack_seeds=seeds, stack_train_s=run.train_s))
    return out


def train_sized_stacked(target: GaussianMixtureTarget, *, steps: int, seeds: Sequence[int], d_width: int,
                        d_depth: int = 2, config: LabConfig | None = None, device: torch.device | str = "cpu",
                        n_eval: int = 2500, progress: bool = False) -> list[StackedSizedRun]:
    """:func:`~ganlimits.verify.lab.train_sized_gan` once per seed in ``seeds`` (one discriminator size: one shape),
    all runs as one stacked network: result s has the numbers of ``train_sized_gan(target, steps=steps,
    seed=seeds[s], ...)`` up to float rounding. Arguments as there, ``seeds`` as in :func:`train_stacked`.

    >>> from ganlimits.constructions import grid
    >>> rs = train_sized_stacked(grid(), steps=10, seeds=[0, 1], d_width=4, config=LabConfig(width=8, batch_size=16),
    ...                          n_eval=50)
    >>> [(r.seed, r.d_params) for r in rs]
    [(0, 37), (1, 37)]
    """
    if not isinstance(target, GaussianMixtureTarget):
        raise ValueError(f"target must be a GaussianMixtureTarget, got {type(target).__name__}")
    steps = check_number("steps", steps, low=1, integer=True)
    seeds = check_seeds(seeds)
    d_width = check_number("d_width", d_width, low=1, integer=True)
    d_depth = check_number("d_depth", d_depth, low=1, integer=True)
    config = _check_config(config)
    n_eval = check_number("n_eval", n_eval, low=1, integer=True)
    S = len(seeds)
    _check_memory(S, reals_per_step=config.batch_size, dim=target.dim, n_eval=n_eval, width=config.width)
    dev = check_device(device)

    streams = [Streams(s) for s in seeds]
    method = SizedGAN(d_width=d_width, d_depth=d_depth, data_dim=target.dim, config=config,
                      generator=[st.torch("init") for st in streams], device=dev)
    run = run_stack(method, target, steps=steps, streams=streams, config=config, device=dev, progress=progress,
                    desc=f"{S} x GAN, D {d_depth}x{d_width}")
    train_s = run.train_s
    out = []
    for s, (st, one) in enumerate(zip(streams, run.runs, strict=True)):
        G = one.generator_callable()
        x_eval, _ = G.sample(n_eval, generator=st.torch("eval"))
        out.append(StackedSizedRun(
            d_width=d_width, d_depth=d_depth, d_params=sum(p.numel() for p in one.D.parameters()),
            g_params=sum(p.numel() for p in one.G.parameters()), steps=steps, seed=seeds[s], config=config,
            final=mode_metrics(x_eval, target), generator=G, train_s=train_s / S, threads=torch.get_num_threads(),
            stack_seeds=seeds, stack_train_s=train_s))
    return out


def train_mixgan_stacked(target: GaussianMixtureTarget | str, *, k: int, steps: int, seeds: Sequence[int],
                         config: LabConfig | None = None, entropy_weight: float = 0.1, equal_params: bool = True,
                         device: torch.device | str = "cpu", eval_every: int | None = None, n_eval: int = 2500,
                         threshold: float | None = None, progress: bool = False) -> list[StackedMixTrainResult]:
    """:func:`~ganlimits.verify.lab.train_mixgan` once per seed in ``seeds`` (one k: one shape), all runs as one
    stacked network: result s has the numbers of ``train_mixgan(target, k=k, steps=steps, seed=seeds[s], ...)`` up
    to float rounding. Arguments as there, ``seeds`` as in :func:`train_stacked`.

    >>> rs = train_mixgan_stacked("ring", k=2, steps=10, seeds=[0, 1], config=LabConfig(width=16, batch_size=32),
    ...                           n_eval=100)
    >>> [(r.seed, r.k, r.component_width, round(sum(r.weights_g), 12)) for r in rs]
    [(0, 2, 9, 1.0), (1, 2, 9, 1.0)]
    """
    target = _check_target(target)
    k = check_number("k", k, low=1, integer=True)
    steps = check_number("steps", steps, low=1, integer=True)
    seeds = check_seeds(seeds)
    entropy_weight = check_number("entropy_weight", entropy_weight, low=0)
    if not isinstance(equal_params, bool):
        raise ValueError(f"equal_params must be True or False, got {equal_params!r}")
    config = _check_config(config)
    eval_every = _eval_every(eval_every, steps)
    n_eval = check_number("n_eval", n_eval, low=1, integer=True)
    mode_metrics(target.means[:1], target, threshold=threshold)
    S = len(seeds)
    _check_memory(S, reals_per_step=config.batch_size * k, dim=target.dim, n_eval=n_eval, width=config.width)
    dev = check_device(device)

    width = component_width(config, k, target.dim, equal_params=equal_params)
    comp = dataclasses.replace(config, width=width)
    start = time.perf_counter()
    streams = [Streams(s) for s in seeds]
    method = MixGAN(k=k, entropy_weight=entropy_weight, data_dim=target.dim, config=comp,
                    generator=[st.torch("init") for st in streams], device=dev)

    def score(step, losses):
        return [_mixgan._snapshot(method.unstack(s), target, step, st, n_eval, threshold, _run_losses(losses, s))
                for s, st in enumerate(streams)]

    run = run_stack(method, target, steps=steps, streams=streams, config=config, device=dev, progress=progress,
                    desc=f"{S} x MIX+GAN k={k} on {target.dim}-D", eval_every=eval_every, score=score)
    snapshots, finals, train_s = run.snapshots, run.finals, run.train_s
    elapsed = time.perf_counter() - start
    out = []
    for s, one in enumerate(run.runs):
        n_params = {role: sum(p.numel() for p in net.parameters()) for role, net in one.networks().items()}
        out.append(StackedMixTrainResult(
            model=f"mixgan-k{k}", label=method.label, objective=method.objective, target=target.description,
            steps=steps, seed=seeds[s], config=comp, snapshots=snapshots[s], final=finals[s],
            generator=one.generator_callable(), encoder=None, elapsed_s=elapsed / S, train_s=train_s / S,
            threads=torch.get_num_threads(), device=str(dev), n_params=n_params, k=k,
            weights_g=tuple(one.weights_g.tolist()), weights_d=tuple(one.weights_d.tolist()),
            component_width=width, budget=mixgan_budget(config, k, steps, width, n_params, equal_params, target.dim),
            horizon=assess_horizon(snapshots[s], rule=SettleRule(), n_modes=target.n_components, cap=steps),
            stack_seeds=seeds, stack_train_s=train_s))
    return out
