"""``audit``: what the theory's instruments say about a user's own samples, generator and encoder.

Shape letters: ``n`` samples, ``d`` point dimension, ``d_code`` code dimension, ``s`` birthday sample size.

One call runs every instrument that applies (``docs/audit.md``):

- always — the **birthday-paradox support** (Arora & Zhang 2017; ``docs/papers/az17.md``) on the samples, drawn as a
  finite pool without replacement (or on fresh draws of ``generator`` when one is given), with its interval; the
  duplicate threshold is calibrated on the reference (``reference``, else draws of ``target``), and without either
  only exact copies count as duplicates;
- with a ``target`` (a :class:`~ganlimits.constructions.GaussianMixtureTarget` or one of the lab's names ``"ring"``,
  ``"grid"``, ``"mixture_1200d"``) — VEEGAN's **mode metrics** (``docs/papers/veegan.md``): modes, share of
  high-quality samples, reverse KL;
- with a reference (``reference`` or draws of ``target``) — the **neural-net distance** from the samples to it
  (Arora et al. 2017; ``docs/papers/agl17.md``) with its interval, and, when the ``prdc`` package is installed (the
  ``[metrics]`` extra), **precision, recall, density and coverage** (Naeem et al. 2020) on the same samples;
- with a ``generator`` and an ``encoder`` — the **BiGAN gap** under the ``arz-thm1`` verdict class (Arora, Risteski &
  Zhang 2017, Theorem 1; ``docs/papers/arz17.md``) and, with a labelled target, the **label probe** of the codes.

Every number is measured in the call; nothing is a verdict (there is no bound to decide against): the audit reports
measurements with their intervals, and says what it did not run and why. Like the CLI, this module sits above the
claims; nothing below imports it (the ``arz-thm1`` verdict class it attacks with is an instrument,
:class:`~ganlimits.verify.estimators.AttackSettings`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ganlimits.theory import check_number

from ._results import provenance, to_jsonable
from ._streams import Streams
from .estimators import AttackSettings, verdict_attack

__all__ = ["audit", "AuditResult", "AuditSettings", "AUDIT_TARGETS"]

AUDIT_TARGETS = ("ring", "grid", "mixture_1200d")
"""The known targets an audit can be given by name (the lab's constants, :func:`~ganlimits.verify.lab.lab_target`)."""


@dataclass(frozen=True)
class AuditSettings:
    """How hard an audit looks (one table for the Python API and ``ganlimits audit``).

    Birthday test: ``pilot_repeats`` samples per pilot size, ``n_sizes`` sizes of ``repeats`` samples each,
    sizes at most ``max_size`` and at most ``sqrt(pair_budget / d)`` (the cost of one closest-pair search is about
    ``s^2 d``), ``calibration_draws`` simulated curves for the interval; ``reference_n`` draws of the target when it
    is the reference. Neural-net distance: ``nnd_hidden``, ``nnd_K`` members trained ``nnd_steps`` steps of
    ``nnd_batch`` rows. BiGAN gap: the ``arz-thm1`` verdict class attacked as in its quick setting on
    ``attack_n_train`` and ``attack_n_test`` pairs per side. Label probe: ``probe_n`` labelled draws for training and
    as many for testing. PRDC: ``prdc_k`` nearest neighbours on at most ``prdc_max`` points per side.
    """

    repeats: int = 20
    pilot_repeats: int = 10
    n_sizes: int = 6
    max_size: int = 4096
    pair_budget: float = 2e9
    calibration_draws: int = 1000
    reference_n: int = 5000
    nnd_hidden: tuple[int, ...] = (32, 32)
    nnd_K: int = 4
    nnd_steps: int = 200
    nnd_batch: int = 256
    attack_n_train: int = 2000
    attack_n_test: int = 4000
    probe_n: int = 2000
    prdc_k: int = 5
    prdc_max: int = 5000
    confidence: float = 0.95

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "nnd_hidden":
                if not value or any(isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in value):
                    raise ValueError(f"nnd_hidden must be a non-empty tuple of widths >= 1, got {value!r}")
            elif f.name == "confidence":
                check_number("confidence", value, low=0, high=1, low_open=True, high_open=True)
            elif f.name == "pair_budget":
                check_number("pair_budget", value, low=1)
            else:
                low = {"repeats": 2, "pilot_repeats": 2, "max_size": 2, "calibration_draws": 100, "reference_n": 2,
                       "attack_n_train": 2, "attack_n_test": 2, "probe_n": 2}.get(f.name, 1)
                check_number(f.name, value, low=low, integer=True)


@dataclass
class AuditResult:
    """Everything one audit measured, with how it was made. ``to_dict()`` is the JSON of ``ganlimits audit --json``:
    ``support`` (``estimate``, ``ci_low``, ``ci_high``, ...) always; ``modes``, ``high_quality``, ``reverse_kl`` at the
    top level when a target was given; the other instruments under their names (None when they did not apply, with
    the reason in ``notes``)."""

    n: int
    d: int
    seed: int
    support: dict[str, Any]
    target: str | None = None
    mode_metrics: dict[str, Any] | None = None
    neural_net_distance: dict[str, Any] | None = None
    prdc: dict[str, Any] | None = None
    bigan_gap: dict[str, Any] | None = None
    label_probe: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    elapsed_s: float = float("nan")
    provenance: dict[str, Any] = field(default_factory=dict)
    birthday: Any = field(default=None, repr=False)  # the BirthdayResult (figures); not in to_dict()
    points: Any = field(default=None, repr=False)  # (samples, reference, target) for the figures; not in to_dict()

    @property
    def modes(self) -> int | None:
        return None if self.mode_metrics is None else self.mode_metrics["modes"]

    @property
    def high_quality(self) -> float | None:
        return None if self.mode_metrics is None else self.mode_metrics["high_quality"]

    @property
    def reverse_kl(self) -> float | None:
        return None if self.mode_metrics is None else self.mode_metrics["reverse_kl"]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"n": self.n, "d": self.d, "seed": self.seed, "target": self.target}
        if self.mode_metrics is not None:
            out.update(modes=self.modes, high_quality=self.high_quality, reverse_kl=self.reverse_kl)
        out.update(support=self.support, mode_metrics=self.mode_metrics, neural_net_distance=self.neural_net_distance,
                   prdc=self.prdc, bigan_gap=self.bigan_gap, label_probe=self.label_probe, notes=self.notes,
                   settings=self.settings, elapsed_s=self.elapsed_s, **self.provenance)
        return to_jsonable(out)

    def lines(self) -> list[str]:
        """The short text report (what ``ganlimits audit`` prints)."""
        s = self.support
        conf = f"{100 * s['confidence']:g}%"
        out = [f"samples: n = {self.n} points in R^{self.d}" + (f"; target: {self.target}" if self.target else "")]
        est = "inf (no duplicate seen)" if math.isinf(s["estimate"]) else f"{s['estimate']:.4g}"
        out.append(f"support (birthday test, {s['source']}): {est} [{s['ci_low']:.4g}, {s['ci_high']:.4g}] ({conf}); "
                   f"threshold {s['threshold']:.3g} ({s['threshold_rule']})")
        if s["note"]:
            out.append(f"  note: {s['note']}")
        if self.mode_metrics is not None:
            m = self.mode_metrics
            kl = "n/a" if m["reverse_kl"] != m["reverse_kl"] else f"{m['reverse_kl']:.3f}"
            out.append(f"modes: {m['modes']} of {m['n_modes']}; high quality: {100 * m['high_quality']:.1f}%; "
                       f"reverse KL: {kl} nats")
        if self.neural_net_distance is not None:
            e = self.neural_net_distance
            out.append(f"neural-net distance to the reference ({e['reference']}): {e['estimate']:.4f} "
                       f"[{e['ci_low']:.4f}, {e['ci_high']:.4f}] ({e['method']})")
        if self.prdc is not None:
            p = self.prdc
            out.append(f"precision {p['precision']:.3f}, recall {p['recall']:.3f}, density {p['density']:.3f}, "
                       f"coverage {p['coverage']:.3f} (prdc, k = {p['nearest_k']})")
        if self.bigan_gap is not None:
            g = self.bigan_gap
            out.append(f"BiGAN gap (arz-thm1 verdict class, K = {g['K']}): {g['estimate']:.4f} "
                       f"[{g['ci_low']:.4f}, {g['ci_high']:.4f}] ({g['method']})")
        if self.label_probe is not None:
            p = self.label_probe
            out.append(f"label probe of the codes: accuracy {p['accuracy']['estimate']:.3f} (lower limit "
                       f"{p['accuracy']['ci_low']:.3f}) against chance {p['chance']:.3f}; p = {p['pvalue']:.3g}")
        out += [f"note: {note}" for note in self.notes]
        return out

    def save(self, out_dir) -> list[str]:
        """Write ``audit.json``, the short report ``AUDIT.md`` and the figures (the collision curve; the samples
        against the target and reference in 2-D) into ``out_dir``; return the file names written."""
        from pathlib import Path

        from ._results import check_out_dir, write_json_atomic, write_text_atomic

        out = check_out_dir(out_dir, "out_dir")
        figures = _figures(self, out)
        write_json_atomic(out / "audit.json", {**self.to_dict(), "figures": figures})
        text = ["# Audit", "", *[f"- {line.strip()}" for line in self.lines()], "",
                *[f"![{Path(f).stem}]({f})" for f in figures], ""]
        write_text_atomic(out / "AUDIT.md", "\n".join(text))
        return ["audit.json", "AUDIT.md", *figures]


def _figures(result: AuditResult, out) -> list[str]:
    from ._figures import new_figure, save_figure

    names = []
    res = result.birthday
    fig, ax = new_figure()
    ax = ax[0, 0]
    lo = [c.probability.ci_low for c in res.curve]
    hi = [c.probability.ci_high for c in res.curve]
    rate = res.collision_rates
    ax.errorbar(res.sizes, rate, yerr=[rate - np.array(lo), np.array(hi) - rate], fmt="o", capsize=3,
                label="collision rate (Clopper-Pearson)")
    est = result.support["estimate"]
    if math.isfinite(est):
        grid = np.geomspace(min(res.sizes), max(res.sizes), 100)
        ax.plot(grid, res.uniform_curve(est, grid), label=f"uniform model, N = {est:.3g}")
    ax.set(xscale="log", xlabel="sample size s", ylabel="share of samples with a duplicate", ylim=(-0.03, 1.03),
           title="birthday test")
    ax.legend(fontsize=8)
    names.append(save_figure(fig, out, "support"))
    x, ref, tgt = result.points
    if x.shape[1] == 2:
        fig, ax = new_figure(width=4.5, height=4.5)
        ax = ax[0, 0]
        ax.scatter(x[:, 0], x[:, 1], s=2, label="samples")
        if ref is not None:
            ax.scatter(ref[:, 0], ref[:, 1], s=1, c="C1", label="reference")
        if tgt is not None:
            ax.scatter(tgt.means[:, 0], tgt.means[:, 1], marker="x", c="k", label="target means")
        ax.set(aspect="equal", title="samples")
        ax.legend(fontsize=8, markerscale=3)
        names.append(save_figure(fig, out, "samples"))
    return names


class AuditInputError(ValueError):
    """A bad argument of :func:`audit`; ``argument`` names it (the CLI turns it into its flag)."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(message)
        self.argument = argument


def _target(target):
    if target is None:
        return None
    from ganlimits.constructions import GaussianMixtureTarget

    if isinstance(target, str):
        if target not in AUDIT_TARGETS:
            raise AuditInputError("target", f"target must be one of {', '.join(AUDIT_TARGETS)} or a "
                                            f"GaussianMixtureTarget, got {target!r}")
        from .lab import lab_target

        return lab_target(target)
    if not isinstance(target, GaussianMixtureTarget):
        raise AuditInputError("target", f"target must be one of {', '.join(AUDIT_TARGETS)} or a "
                                        f"GaussianMixtureTarget, got {type(target).__name__}")
    return target


def _seed(rng) -> int:
    if rng is None:
        return 0
    if isinstance(rng, torch.Generator):
        return int(torch.randint(0, 2**62, (1,), generator=rng))
    from .estimators._inputs import as_rng

    return int(as_rng(rng).initial_seed())


@dataclass
class _Inputs:
    x: torch.Tensor
    reference: torch.Tensor | None
    target: Any
    generator: Any
    encoder: Any
    code_dim: int | None


def check_audit_inputs(samples, *, reference=None, target=None, generator=None, encoder=None,
                       code_dim=None) -> _Inputs:
    """Every argument of :func:`audit` checked before anything is measured: shapes, dimensions that must agree,
    and one call of each model on two points. :class:`AuditInputError` names the argument otherwise."""
    from .estimators._inputs import as_points, model_in_features

    def points(value, name):
        try:
            return as_points(value, name, min_rows=2)
        except ValueError as exc:
            raise AuditInputError(name, str(exc)) from None

    x = points(samples, "samples")
    d = x.shape[1]
    ref = None if reference is None else points(reference, "reference")
    if ref is not None and ref.shape[1] != d:
        raise AuditInputError("reference", f"reference has d = {ref.shape[1]} columns but the samples have d = {d}")
    tgt = _target(target)
    if tgt is not None and tgt.dim != d:
        raise AuditInputError("target", f"target lives in R^{tgt.dim} but the samples have d = {d} columns")
    if code_dim is not None:
        try:
            code_dim = check_number("code_dim", code_dim, low=1, integer=True)
        except ValueError as exc:
            raise AuditInputError("code_dim", str(exc)) from None
    E = None if encoder is None else _call_model(encoder, "encoder", x[:2])
    if E is not None:
        width = E[1].shape[1]
        if code_dim is not None and width != code_dim:
            raise AuditInputError("code_dim", f"code_dim = {code_dim} but the encoder returns codes of width {width}")
        code_dim = width
    G = None
    if generator is not None:
        code_dim = code_dim or model_in_features(generator)
        if code_dim is None:
            raise AuditInputError("code_dim", "code_dim: give the width of the generator's input (its first layer "
                                              "does not say)")
        G = _call_model(generator, "generator", torch.zeros(2, code_dim, dtype=torch.float64))
        if G[1].shape[1] != d:
            raise AuditInputError("generator", f"generator returns points of width {G[1].shape[1]} but the samples "
                                               f"have d = {d}")
    return _Inputs(x, ref, tgt, None if G is None else G[0], None if E is None else E[0], code_dim)


def _call_model(fn, name: str, inp: torch.Tensor):
    """``(Model, output on inp)``; any failure of the user's model is an :class:`AuditInputError` naming it."""
    from .estimators._inputs import as_model

    try:
        model = as_model(fn, name)
        return model, model(inp)
    except ValueError as exc:
        raise AuditInputError(name, str(exc)) from None
    except Exception as exc:  # the user's code failed on an input of the right shape: one line, named
        raise AuditInputError(name, f"{name} failed on an input of shape {tuple(inp.shape)}: "
                                    f"{type(exc).__name__}: {exc}") from None


def audit(samples, *, reference=None, target=None, generator=None, encoder=None, rng=None, code_dim: int | None = None,
          settings: AuditSettings | None = None, progress: bool = False) -> AuditResult:
    """Audit a user's samples (and generator/encoder) with the theory's instruments (module docstring).

    ``samples``: ``(n, d)`` array or tensor, the generator's saved output; ``reference``: ``(n_ref, d)`` real samples
    (optional); ``target``: ``"ring"``, ``"grid"``, ``"mixture_1200d"`` or a
    :class:`~ganlimits.constructions.GaussianMixtureTarget` (optional); ``generator``: a torch module or callable
    ``(n, d_code) -> (n, d)`` fed ``z ~ N(0, I)`` (then the support is measured on fresh draws, not bounded by the
    pool); ``encoder``: ``(n, d) -> (n, d_code)``; ``code_dim``: ``d_code`` when neither model says it; ``rng``: an
    integer seed or a ``torch.Generator`` (default seed 0; each instrument gets its own stream of it); ``settings``:
    :class:`AuditSettings`; ``progress``: a progress bar for the birthday test. Returns an :class:`AuditResult`; bad
    arguments raise ``ValueError`` naming them before anything runs.

    >>> import numpy as np
    >>> pool = np.random.default_rng(3).integers(0, 40, 2000)  # 2000 draws of a 40-point law, saved
    >>> s = audit(np.stack([np.cos(pool), np.sin(pool)], axis=1), rng=0).support
    >>> print(f"support {s['estimate']:.0f} [{s['ci_low']:.0f}, {s['ci_high']:.0f}]")
    support 42 [33, 56]
    """
    start = time.perf_counter()
    inputs = check_audit_inputs(samples, reference=reference, target=target, generator=generator, encoder=encoder,
                                code_dim=code_dim)
    settings = AuditSettings() if settings is None else settings
    if not isinstance(settings, AuditSettings):
        raise AuditInputError("settings", f"settings must be an AuditSettings, got {type(settings).__name__}")
    seed = _seed(rng)
    streams = Streams(seed)
    x, tgt = inputs.x, inputs.target
    n, d = x.shape
    notes: list[str] = []
    ref, ref_kind = inputs.reference, "given"
    if ref is None and tgt is not None:
        ref, _ = tgt.sample(settings.reference_n, generator=streams.torch("reference"))
        ref_kind = f"{settings.reference_n} draws of the target"
    result = AuditResult(n=int(n), d=int(d), seed=seed, support={}, target=None if tgt is None else tgt.description,
                         settings=to_jsonable(dataclasses.asdict(settings)))
    result.support, result.birthday = _support(x, ref, inputs, settings, streams, notes, progress)
    result.points = (x, ref, tgt)
    if tgt is not None:
        from .lab import mode_metrics
        from .lab.metrics import veegan_threshold

        try:
            veegan_threshold(tgt)
        except ValueError:
            notes.append(f"mode metrics: VEEGAN's high-quality radius is defined for 2-D targets and the 1200-D "
                         f"mixture, not for R^{d}")
        else:
            result.mode_metrics = mode_metrics(x, tgt).to_dict()
    if ref is not None:
        result.neural_net_distance = _distance(x, ref, ref_kind, settings, streams)
        result.prdc = _prdc(x, ref, settings, streams, notes)
    else:
        notes.append("no reference and no target: the neural-net distance and precision/recall/density/coverage "
                     "need real samples (--reference or --target)")
    if inputs.generator is not None and inputs.encoder is not None:
        result.bigan_gap = _bigan_gap(inputs, ref if tgt is None else None, settings, streams, notes)
        if tgt is not None:
            from .estimators import label_probe

            probe = label_probe(inputs.encoder, tgt, n_train=settings.probe_n, n_test=settings.probe_n,
                                rng=streams.torch("probe"), confidence=settings.confidence)
            result.label_probe = {"accuracy": probe["accuracy"].to_dict(),
                                  **{k: v for k, v in probe.items() if k != "accuracy"}}
        else:
            notes.append("label probe: needs a labelled target (--target)")
    elif inputs.generator is not None or inputs.encoder is not None:
        notes.append("BiGAN gap and label probe: need both a generator and an encoder")
    result.notes = notes
    result.elapsed_s = time.perf_counter() - start
    result.provenance = provenance()
    return result


def _support(x, ref, inputs: _Inputs, s: AuditSettings, streams: Streams, notes: list[str], progress: bool):
    from .estimators import birthday_test, pilot_sizes, threshold_from_reference

    n, d = x.shape
    if ref is not None:
        threshold = threshold_from_reference(ref)
        rule = f"half the 1% quantile of nearest-neighbour distances in the reference (n = {ref.shape[0]})"
    else:
        scale = float((x - x.mean(dim=0)).abs().max())
        threshold = 1e-9 * (scale if scale > 0 else 1.0)
        rule = "exact copies only (1e-9 of the data's scale): give a reference or a target to count near-duplicates"
    if inputs.generator is not None:
        G, d_code = inputs.generator, inputs.code_dim

        def sample(m, g):
            return G(torch.randn(m, d_code, generator=g, dtype=torch.float64))

        source, pool = "fresh draws of the generator", None
    else:
        sample, source, pool = x, "the samples, drawn without replacement", n
    cap = min(s.max_size, max(2, int(math.sqrt(s.pair_budget / d))))
    if pool is not None:
        cap = min(cap, pool)
    rng = streams.torch("support")
    try:
        sizes = pilot_sizes(sample, threshold=threshold, rng=rng, n_sizes=s.n_sizes, repeats=s.pilot_repeats,
                            max_size=cap)
    except ValueError as exc:
        if not str(exc).startswith("max_size"):
            raise
        sizes = tuple(sorted({max(2, int(round(cap / 2**j))) for j in range(4)}))
        notes.append(f"support: fewer than half of the pilot samples collide up to s = {cap}; tested at "
                     f"{', '.join(map(str, sizes))}")
    res = birthday_test(sample, sizes=sizes, repeats=s.repeats, threshold=threshold, rng=rng,
                        confidence=s.confidence, calibration_draws=s.calibration_draws, progress=progress)
    sup = res.support_estimate
    out = {**dataclasses.asdict(sup), "threshold": threshold, "threshold_rule": rule, "source": source,
           "sizes": list(res.sizes), "repeats": res.repeats, "collisions": res.collision_counts.tolist(),
           "pool_size": res.pool_size, "bounded_by_pool": res.bounded_by_pool, "note": res.note,
           "support_estimate_paper": res.support_estimate_paper, "nonuniform": res.nonuniform,
           "nonuniform_pvalue": res.nonuniform_pvalue, "max_size": cap}
    return out, res


def _distance(x, ref, kind: str, s: AuditSettings, streams: Streams) -> dict:
    from .estimators import neural_net_distance

    est = neural_net_distance(x, ref, hidden=s.nnd_hidden, K=s.nnd_K, steps=s.nnd_steps, batch_size=s.nnd_batch,
                              rng=streams.torch("distance"), confidence=s.confidence)
    return {**est.to_dict(), "reference": kind}


def _prdc(x, ref, s: AuditSettings, streams: Streams, notes: list[str]) -> dict | None:
    try:
        from prdc import compute_prdc
    except ImportError:
        notes.append("precision/recall/density/coverage: install the [metrics] extra (the prdc package)")
        return None
    from ganlimits.theory import check_allocation

    g = streams.torch("prdc")
    real = ref[torch.randperm(ref.shape[0], generator=g)[: s.prdc_max]]
    fake = x[torch.randperm(x.shape[0], generator=g)[: s.prdc_max]]
    if s.prdc_k >= min(real.shape[0], fake.shape[0]):
        notes.append(f"precision/recall/density/coverage: k = {s.prdc_k} needs more than {s.prdc_k} points a side")
        return None
    check_allocation("prdc_max", s.prdc_max, elements=float(real.shape[0]) * max(real.shape[0], fake.shape[0]))
    with contextlib.redirect_stdout(io.StringIO()):  # compute_prdc prints its sizes
        values = compute_prdc(real_features=real.numpy(), fake_features=fake.numpy(), nearest_k=s.prdc_k)
    return {**{k: float(v) for k, v in values.items()}, "nearest_k": s.prdc_k, "n_real": int(real.shape[0]),
            "n_fake": int(fake.shape[0]), "method": "prdc.compute_prdc (Naeem et al. 2020)"}


class _PoolTarget:
    """Real samples served from a fixed pool in disjoint, shuffled chunks (train and test never share a row)."""

    def __init__(self, pool: torch.Tensor, g: torch.Generator) -> None:
        self.pool, self.used = pool[torch.randperm(pool.shape[0], generator=g)], 0
        self.dim = pool.shape[1]

    def sample(self, n: int, *, generator=None):
        if self.used + n > self.pool.shape[0]:
            raise ValueError(f"reference: {self.pool.shape[0]} rows are too few for the attack's disjoint samples")
        out = self.pool[self.used:self.used + n]
        self.used += n
        return out, None


def _bigan_gap(inputs: _Inputs, ref, s: AuditSettings, streams: Streams, notes: list[str]) -> dict | None:
    attack = AttackSettings.verdict_class(quick=True)
    n_train, n_test = s.attack_n_train, s.attack_n_test
    real = inputs.target
    if real is None:
        if ref is None:
            notes.append("BiGAN gap: needs real samples for the real side (--reference or --target)")
            return None
        if n_train + n_test > ref.shape[0]:
            n_train = max(1, ref.shape[0] // 3)
            n_test = ref.shape[0] - n_train
            notes.append(f"BiGAN gap: the reference holds {ref.shape[0]} rows; attacked on {n_train} training and "
                         f"{n_test} test pairs per side")
        real = _PoolTarget(ref, streams.torch("attack pool"))
    attack = dataclasses.replace(attack, n_train=n_train, n_test=n_test, batch_size=min(attack.batch_size, n_train))
    est, details = verdict_attack(inputs.generator, inputs.encoder, real, settings=attack,
                                  rng=streams.torch("attack"))
    return {**est.to_dict(), "K": details["K"], "p": details["p"], "best_member_trained": details[
        "best_member_trained"], "class": {"hidden": list(attack.hidden), "weight_norm": attack.weight_norm,
                                         "bias_bound": attack.bias_bound}}
