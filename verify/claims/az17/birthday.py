"""Claim ``az17-birthday``: the birthday-paradox test, on full output vectors, recovers known supports, flags
non-uniform mass and exposes the memorizing generator.

.. math::

    \\Pr_N[\\text{collision among } s] = 1 - \\prod_{i=1}^{s-1}\\Bigl(1 - \\frac iN\\Bigr)
    = \\tfrac12 \\ \\text{at}\\ s \\approx \\sqrt{2\\ln 2\\,N} \\approx 1.18\\sqrt N

(Arora & Zhang 2017, birthday paradox test; ``docs/papers/az17.md``). The attack is the general one: full output
vectors, a duplicate threshold from held-out data (:func:`~ganlimits.verify.threshold_from_reference` on jittered
digits of a calibration half of the images; the false-positive control uses the other half), sizes from a pilot
run (:func:`~ganlimits.verify.pilot_sizes`), and the headline support interval
(:data:`~ganlimits.verify.estimators.support.HEADLINE_INTERVAL`: the Neyman interval ordered by the maximum likelihood,
calibrated by simulation, each tail at most 2.5%).

Cases (shape letters: ``m`` support, ``d`` = 64, ``d_code`` code dimension):

- **memorizing generators** of support ``m`` (the uniform law on ``m`` draws of the jittered digits: the empirical
  law of Arora, Ge, Liang, Ma & Zhang, and the clean part of the Theorem-3 witness). Criterion for each: the
  measured ``|log(N_hat / m)|`` is within ``log factor`` (verdict rule :func:`~._common.decide`, upper limit
  within, lower limit beyond = refuted), and the law is not flagged non-uniform. The headline is the largest m.
- **the Theorem-3 witness** of Arora, Risteski & Zhang (the ReLU network of claim ``arz-thm1``, m = k^2). On full
  vectors two outputs of one block differ at the d' code positions, so full-vector duplicates are rarer than
  "same memorized image": the test measures that rate (checked against a count of independent pairs) and must
  still expose the witness (its upper limit below the data's lower limit). Stated special case: comparing only
  the known clean positions recovers m (same criterion as above).
- **non-uniform mass**: one image with mass ``heavy_mass``, the rest atomless; it must be flagged and the image
  named.
- **specificity**: jittered digits of the held-out images (support unbounded) must not collide at ``control_s``.

Near-boundary control: a memorizing generator of support ``m F^c`` (``c = near_strength`` in [1.5, 3]) attacked
as a claim of support ``m`` at the verdict's n; caught when the lower limit of ``|log(N_hat / m)|`` exceeds
``log F``. Its truth ``log(m F^c / m)`` is exact from both sides once its atoms' closest pair (computed exactly) is
at least the duplicate threshold apart: two draws are then duplicates exactly when they copy the same atom, so the
test sees exactly the uniform law on ``m F^c`` points (otherwise there is no control). Resolution: the same over
the graded strengths ``power_strengths``, ``power_repeats`` >= 14 trials each (fewer: no resolution, and the
verdict is inconclusive), every planted support certified the same way; those trials, on known uniform supports,
also measure the coverage and width of every interval type.

Verdict (``_birthday_report.verdict_of``): ``inconclusive`` when the held-out control collides or the headline
interval under-covers the planted supports; ``refuted`` when a known support's interval lies beyond the factor, a
known uniform support is flagged, the atom is missed or the witness is not exposed; ``consistent`` when every
known support lies within the factor, the near-boundary control is caught and the resolution is at most 3 times
the bound.

Deviation: the paper's human judge of near-duplicates among the 20 closest pairs is a distance threshold here, and
its ``s_half^2`` rule the uniform model's maximum likelihood over the whole collision curve.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from ganlimits.theory import s_half_uniform

from ..._registry import RunConfig
from ..._results import ClaimResult, Estimate
from ..._sweep import run_trials
from ...estimators import threshold_from_reference
from ...estimators.support import HEADLINE_INTERVAL, support_intervals, support_lr_pvalue
from .._common import (
    CONFIDENCE,
    DIGITS_JITTER,
    NEAR_BOUNDARY,
    CheckedSettings,
    NearBoundaryControl,
    PowerCurve,
    make_result,
    resolve_settings,
    streams_for,
)
from ._birthday_cases import coverage_table, image_law, noised_law, trial
from ._birthday_report import figures, verdict_of

__all__: list[str] = []

_SPAN = 2.4 * 1.18  # the pilot's largest size over sqrt(N) (pilot_sizes' span times s_half / sqrt(N))


@dataclass(frozen=True)
class Settings(CheckedSettings):
    """Settings of ``az17-birthday`` (every number the verdict depends on).

    ``ms`` supports of the memorizing generators (headline: the largest); ``witness_k`` the Theorem-3 network's k
    (m = k^2); ``repeats`` samples per size on ``n_sizes`` sizes chosen by a pilot of ``pilot_repeats`` samples per
    size up to ``max_size``; ``calibration_draws`` simulated curves for the headline interval; ``factor`` the
    criterion F; ``near_strength`` and ``power_strengths`` planted supports ``m F^c`` in units c of ``log F``,
    ``power_repeats`` trials each; ``reference_n`` held-out draws for the threshold (``reference_quantile``,
    ``reference_factor``), from a ``split_fraction`` share of the digit images; ``control_s`` x ``control_repeats``
    the specificity check; ``heavy_mass`` the atom of the non-uniform case; ``witness_pairs`` pairs counted for
    the witness's full-vector duplicate rate; ``code_dim``, ``code_sigma``, ``tv_budget``, ``jitter`` the witness
    and the target.
    """

    ms: tuple[int, ...]
    witness_k: int
    repeats: int
    n_sizes: int
    pilot_repeats: int
    calibration_draws: int
    power_strengths: tuple[float, ...]
    power_repeats: int
    control_s: int
    control_repeats: int
    witness_pairs: int
    reference_n: int = 2048
    max_size: int = 4096
    factor: float = 1.5
    near_strength: float = 2.0
    heavy_mass: float = 0.1
    nonuniform_alpha: float = 0.01
    reference_quantile: float = 0.01
    reference_factor: float = 0.5
    split_fraction: float = 0.5
    code_dim: int = 2
    code_sigma: float = 1.0
    tv_budget: float = 0.01
    jitter: float = DIGITS_JITTER

    _limits: ClassVar[dict[str, dict]] = {
        "ms": {"low": 2, "integer": True},
        "witness_k": {"low": 2, "integer": True},
        "n_sizes": {"low": 3, "integer": True},
        "pilot_repeats": {"low": 4, "integer": True},
        "calibration_draws": {"low": 100, "integer": True},
        "power_strengths": {"low": 0},
        "factor": {"low": 1, "low_open": True},
        "heavy_mass": {"low": 0, "high": 1, "low_open": True, "high_open": True},
        "nonuniform_alpha": {"low": 0, "high": 1, "low_open": True, "high_open": True},
        "reference_quantile": {"low": 0, "high": 1, "low_open": True, "high_open": True},
        "split_fraction": {"low": 0, "high": 1, "low_open": True, "high_open": True},
        "reference_n": {"low": 2, "integer": True},
        "max_size": {"low": 4, "integer": True},
    }

    @classmethod
    def quick(cls) -> Settings:
        return cls(ms=(64, 256), witness_k=16, repeats=25, n_sizes=8, pilot_repeats=10, calibration_draws=500,
                   power_strengths=(0.0, 1.0, 2.0, 3.0), power_repeats=14, control_s=1024, control_repeats=5,
                   witness_pairs=20_000, reference_n=1024)

    @classmethod
    def full(cls) -> Settings:
        return cls(ms=(64, 256, 1024), witness_k=32, repeats=50, n_sizes=10, pilot_repeats=16,
                   calibration_draws=1000, power_strengths=(0.0, 1.0, 1.5, 2.0, 2.5, 3.0),
                   power_repeats=30, control_s=2048, control_repeats=20, witness_pairs=400_000)

    def largest_size(self) -> int:
        """The largest sample size a pilot is expected to pick (planted supports included)."""
        top = max(max(self.ms) * self.factor ** max(self.power_strengths + (self.near_strength,)),
                  self.witness_k**2 * 4.0)
        return int(np.ceil(1.5 * _SPAN * np.sqrt(top)))

    def validate(self) -> None:
        lo, hi = NEAR_BOUNDARY
        if not lo <= self.near_strength <= hi:
            raise ValueError(f"near_strength must lie in [{lo}, {hi}] (a near-boundary control), got "
                             f"{self.near_strength}")
        if list(self.power_strengths) != sorted(set(self.power_strengths)) or len(self.power_strengths) < 2:
            raise ValueError("power_strengths must be at least two distinct increasing strengths, got "
                             f"{self.power_strengths}")
        if not any(1 < c <= 3 for c in self.power_strengths):
            raise ValueError("power_strengths must include a strength in (1, 3]: the resolution can only be "
                             "established between the bound and 3 times it")
        if self.code_dim >= 64:
            raise ValueError(f"code_dim must be below the image dimension 64, got {self.code_dim}")
        need = self.largest_size()
        if self.max_size < need:
            raise ValueError(f"max_size must be at least {need} (the largest size the pilots need), got "
                             f"{self.max_size}")
        if self.reference_n < need:
            raise ValueError(f"reference_n must be at least the largest sample size tested (~{need}), got "
                             f"{self.reference_n}")
        if self.control_s < need:
            raise ValueError(f"control_s must be at least the largest sample size tested (~{need}), got "
                             f"{self.control_s}")
        if round(self.split_fraction * 1797) < 2 or round((1 - self.split_fraction) * 1797) < 2:
            raise ValueError(f"split_fraction must leave images on both sides, got {self.split_fraction}")


def _thresholds(st: Settings, base: dict[str, Any], gen: torch.Generator) -> dict[str, float]:
    """Duplicate thresholds from held-out data (the calibration half of the images): for 64-D images, for the
    noised images on full vectors, and on the clean positions (the special case)."""
    calib = image_law(base, "calibration")
    x, _ = calib.sample(st.reference_n, generator=gen)
    noised = noised_law(calib, base)
    xn, _ = noised.sample(st.reference_n, generator=gen)
    kw = {"quantile": st.reference_quantile, "factor": st.reference_factor}
    return {"digits": threshold_from_reference(x, **kw), "noised": threshold_from_reference(xn, **kw),
            "clean": threshold_from_reference(xn, coords=noised.noise.clean_positions, **kw)}


def _jobs(st: Settings, base: dict[str, Any], t: dict[str, float], streams) -> list[tuple[dict, int]]:
    head = max(st.ms)
    mem = {**base, "kind": "memorized", "threshold": t["digits"]}
    jobs = [({**mem, "m": m, "claimed": m}, streams.seed("case", "memorized", m)) for m in st.ms]
    jobs += [({**base, "kind": "witness", "k": st.witness_k, "coords": c, "threshold": t[tk]},
              streams.seed("case", "witness", c)) for c, tk in (("full", "noised"), ("clean", "clean"))]
    jobs.append(({**base, "kind": "heavy", "threshold": t["digits"]}, streams.seed("case", "heavy")))
    jobs += [({**base, "kind": "control", "law": law, "s": st.control_s, "threshold": t[law]},
              streams.seed("case", "control", law)) for law in ("digits", "noised")]
    jobs.append(({**mem, "m": _planted(head, st.factor, st.near_strength), "claimed": head, "role": "near"},
                 streams.seed("case", "near")))
    jobs += [({**mem, "m": _planted(head, st.factor, c), "claimed": head, "role": "power"},
              streams.seed("power", i, r)) for i, c in enumerate(st.power_strengths) for r in range(st.power_repeats)]
    return jobs


def _planted(m: int, factor: float, c: float) -> int:
    return int(round(m * factor**c))


def run(config: RunConfig, settings: Settings | None = None) -> ClaimResult:
    """Run every case, the near-boundary control and the power trials; decide; return the claim's result."""
    st = resolve_settings(Settings, config, settings)
    streams = streams_for(config)
    base = {"jitter": st.jitter, "code_dim": st.code_dim, "code_sigma": st.code_sigma, "tv_budget": st.tv_budget,
            "split_seed": streams.seed("split"), "split_fraction": st.split_fraction, "factor": st.factor,
            "repeats": st.repeats, "n_sizes": st.n_sizes, "pilot_repeats": st.pilot_repeats,
            "max_size": st.max_size, "calibration_draws": st.calibration_draws,
            "nonuniform_alpha": st.nonuniform_alpha, "heavy_mass": st.heavy_mass,
            "control_repeats": st.control_repeats, "witness_pairs": st.witness_pairs}
    t = _thresholds(st, base, streams.torch("reference"))
    jobs = _jobs(st, base, t, streams)
    path = Path(config.out_dir) / ("az17-birthday-quick.jsonl" if config.quick else "az17-birthday.jsonl")
    rows = run_trials(trial, jobs, path=path, resume=config.resume, n_jobs=config.n_jobs,
                      scheduler=config.scheduler, desc="az17-birthday", progress=config.progress)

    head, log_f, n = max(st.ms), float(np.log(st.factor)), st.repeats * st.n_sizes
    memorized = {r["m"]: r for r in rows if r["kind"] == "memorized" and r["role"] is None}
    wit = {r["coords"]: r for r in rows if r["kind"] == "witness"}
    heavy = next(r for r in rows if r["kind"] == "heavy")
    controls = {r["law"]: r for r in rows if r["kind"] == "control"}
    near_row = next(r for r in rows if r.get("role") == "near")
    power_rows = [r for r in rows if r.get("role") == "power"]

    def ratio_estimate(r: dict[str, Any], what: str) -> Estimate:
        return Estimate(r["log_ratio"], r["log_ratio_low"], r["log_ratio_high"], CONFIDENCE, n,
                        f"|log(N_hat / {what})|, {HEADLINE_INTERVAL} interval", config.seed)

    near = None
    if near_row["support_certified"]:
        near = NearBoundaryControl.exact(
            f"memorizing generator of support {near_row['m']} attacked as support {head}",
            float(np.log(near_row["m"] / head)), bound=log_f, measured=ratio_estimate(near_row, "m"),
            truth=f"exact: uniform on {near_row['m']} atoms whose closest pair ({near_row['atoms_min_distance']:.3g})"
                  f" is at least the threshold {near_row['threshold']:.3g} apart, so the rule sees exactly the "
                  f"uniform law on {near_row['m']} points")
    strengths = [float(np.log(_planted(head, st.factor, c) / head)) for c in st.power_strengths]
    uncertified = [r["m"] for r in power_rows if not r["support_certified"]]
    power = None
    if not uncertified:  # every planted support is exact, so every strength is
        detected = [sum(r["detected"] for r in power_rows if r["m"] == _planted(head, st.factor, c))
                    for c in st.power_strengths]
        power = PowerCurve(strengths=tuple(strengths), detected=tuple(detected), repeats=st.power_repeats, n=n,
                           bound=log_f, label=f"planted supports {head} F^c, attacked as support {head}")
    coverage = coverage_table(power_rows, CONFIDENCE)

    cases = {f"memorizing m={m}": ratio_estimate(r, "m") for m, r in sorted(memorized.items())}
    cases[f"Theorem-3 witness m={wit['clean']['m']}, clean positions"] = ratio_estimate(wit["clean"], "m")
    flags = {k: bool(r["nonuniform"]) for k, r in [*((f"memorizing m={m}", r) for m, r in memorized.items()),
                                                    ("witness clean positions", wit["clean"])]}
    data_low = support_intervals([st.control_s], [controls["noised"]["collisions"]], st.control_repeats,
                                 generator=streams.numpy("control-interval"))[HEADLINE_INTERVAL].ci_low
    exposed = bool(wit["full"]["intervals"][HEADLINE_INTERVAL]["ci_high"] < data_low)
    uncertain = [f"memorizing m={m}" for m, r in sorted(memorized.items()) if not r["support_certified"]]
    verdict, reason = verdict_of(cases, near=near, power=power, log_factor=log_f, flags=flags, uncertain=uncertain,
                                 heavy_flagged=bool(heavy["nonuniform"] and heavy["top_is_heavy_point"]),
                                 exposed=exposed, false_positives=sum(c["collisions"] for c in controls.values()),
                                 coverage=coverage["pooled"][HEADLINE_INTERVAL]["coverage"], confidence=CONFIDENCE)
    top = memorized[head]
    curve = (top["sizes"], top["counts"], top["repeats"])
    gen = streams.numpy("pvalue")
    pvalue = None
    if verdict == "consistent":
        # the null the verdict rejects is "the estimate is off by more than the factor": N <= m/f or N >= m f,
        # an intersection-union test whose p-value is the larger of the two one-sided ones
        pvalue = max(support_lr_pvalue(*curve, low=1.0, high=head / st.factor, generator=gen,
                                       draws=st.calibration_draws),
                     support_lr_pvalue(*curve, low=head * st.factor, high=head * st.factor * 1e6, generator=gen,
                                       draws=st.calibration_draws))
    elif verdict == "refuted" and reason.startswith(f"memorizing m={head}:"):
        # the null a refutation by the headline's interval rejects is "within the factor"
        pvalue = support_lr_pvalue(*curve, low=head / st.factor, high=head * st.factor, generator=gen,
                                   draws=st.calibration_draws)

    full_est = wit["full"]["intervals"][HEADLINE_INTERVAL]
    summary = ("memorizing generators: N_hat/m = " + ", ".join(
        f"{_ratio(r)} (m={m})" for m, r in sorted(memorized.items()))
        + f"; Theorem-3 witness m={wit['full']['m']}: full vectors N_hat = {full_est['estimate']:.0f} "
        f"[{full_est['ci_low']:.0f}, {full_est['ci_high']:.0f}] (pair count: "
        f"{wit['full']['effective_support'][1]:.0f}), clean positions N_hat/m = {_ratio(wit['clean'])}; "
        f"10%-mass image flagged: {bool(heavy['nonuniform'])}; headline coverage "
        f"{coverage['pooled'][HEADLINE_INTERVAL]['coverage']['estimate']:.2f} over {len(power_rows)} planted runs")
    measurements = {
        "thresholds": t, "memorized": {str(m): r for m, r in memorized.items()}, "witness": wit,
        "witness_exposure": {"full_vector_upper": full_est["ci_high"], "data_support_lower": data_low,
                             "exposed": exposed,
                             "s_half_over_sqrt_m": wit["clean"]["s_half"]["estimate"] / np.sqrt(wit["clean"]["m"]),
                             "uniform_model_s_half_over_sqrt_m": s_half_uniform(N=wit["clean"]["m"], exact=True)
                             / np.sqrt(wit["clean"]["m"])},
        "nonuniform_case": heavy, "specificity": controls, "coverage": coverage, "nonuniform_flags": flags,
        "criteria": {k: e.to_dict() for k, e in cases.items()}, "power_trials": power_rows,
        "uncertified_planted_supports": uncertified,
    }
    notes = [
        f"Duplicates on full vectors: distance below half the 1% quantile of nearest-neighbour distances among "
        f"{st.reference_n} held-out draws (jittered digits of a random {st.split_fraction:.0%} of the images; the "
        "specificity check uses the other images).",
        "Sizes: a pilot doubles s until half its samples collide, then the test uses sizes from 0.6 to 2.4 times "
        "that crossing; the pilot's samples are not reused.",
        "Support interval: uniform-model maximum likelihood with the Neyman interval ordered by the maximum "
        "likelihood (each tail at most 2.5%, Monte-Carlo p-values over simulated curves); its coverage and median "
        "width, with those of the chi-square likelihood-ratio, Clopper-Pearson inversion and crossing intervals, are "
        "measured on the planted supports (measurements.coverage).",
        "Near-boundary control and planted supports certified exactly: each memorized law's closest pair of atoms "
        "is at least the duplicate threshold apart, so the rule sees exactly the uniform law on its atoms.",
        "The Theorem-3 witness's outputs of one block differ at the code positions, so on full vectors their "
        "duplicate rate is that of about 'effective_support' points (a count of independent pairs), not m; "
        "comparing only the known clean positions is the special case that recovers m.",
    ]
    return make_result(
        "az17-birthday", config, st, verdict=verdict, verdict_reason=reason, verdict_pvalue=pvalue,
        params={"quick": config.quick, "headline_m": head, "verdict_n": n, "interval": HEADLINE_INTERVAL,
                "factor": st.factor, "confidence": CONFIDENCE, "thresholds": t,
                "target_support": "unbounded (digits kernel density, jitter 0.05)"},
        measured=cases[f"memorizing m={head}"],
        bound={"value": log_f, "label": f"|log(N_hat/m)| <= log {st.factor:g} (estimate within x{st.factor:g})"},
        near_control=near, power=power, summary=summary,
        control_summary=(f"planted support {near_row['m']} = {head} x {near_row['m'] / head:.2f} attacked as {head}: "
                         f"|log ratio| {ratio_estimate(near_row, 'm').fmt()} vs log F = {log_f:.3f}"
                         + ("" if near is not None else "; its atoms were closer than the threshold: its support "
                            "is not certified, no control")),
        measurements=measurements, notes=notes,
        figures=figures(rows, coverage, power, Path(config.out_dir)) if config.figures else [],
    )


def _ratio(r: dict[str, Any]) -> str:
    e = r["intervals"][HEADLINE_INTERVAL]
    m = r["m"]
    return f"{e['estimate'] / m:.2f} [{e['ci_low'] / m:.2f}, {e['ci_high'] / m:.2f}]"

