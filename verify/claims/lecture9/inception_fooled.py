r"""Claim ``lecture-inception-fooled`` (Madry's lecture 9, section 4; ``docs/papers/lecture9.md``): "a GAN which
simply randomizes over the modes will receive a high inception score", stated as what is measured here.

The true law is an equal mixture of N(2 e_k, I_8), k = 0, 1, 2, labelled k; the inception score's classifier is a
multinomial logistic regression trained on labelled draws. The support-3 generator outputs, uniformly, one point
per mode, the point of mode k being ONE RANDOM DRAW of mode k (no search for confident points). For a generator of
finite support the inception score is exact:

.. math::
    \mathrm{IS}(G) = \exp\Big(\sum_x G(x)\,\mathrm{KL}\big(p(y|x)\,\|\,p_G(y)\big)\Big),
    \qquad \delta = \frac{\mathrm{IS}(\mu) - \mathrm{IS}(G)}{\mathrm{IS}(\mu) - 1},

with IS(mu) of the true law from ``n_truth`` draws (a much larger computation). delta is the share of the true
law's score above the no-information score 1 that the support-3 generator loses. Over ``atom_draws`` independent
random atom triples the claim reports the distribution of IS(support 3) - IS(true) (mean with a t interval,
quantiles) and q = Pr[IS(support 3) >= IS(true)] (Clopper-Pearson), and decides on the mean deficit:
``consistent`` when its one-sided upper limit is <= ``deficit_max`` (the score is "high": at most 10% of the true
law's excess over 1 lost), with a near-boundary control and a power curve (planted generators that add a fourth,
uninformative atom with a known weight, whose deficit is known from the same much larger computation), and the
birthday test and the neural-net distance both expose the generator while flagging nothing on fresh true samples.
Deviation: the lecture states no number; the 10% tolerance is this project's reading of "high".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats

from ..._registry import RunConfig
from ..._results import ClaimResult, Estimate
from ...estimators import clopper_pearson
from .._common import (
    CONFIDENCE,
    NEAR_BOUNDARY,
    CheckedSettings,
    NearBoundaryControl,
    PowerCurve,
    decide,
    make_result,
    one_torch_thread,
    resolve_settings,
    streams_for,
)

__all__ = ["run", "Settings", "finite_inception_score"]


@dataclass(frozen=True)
class Settings(CheckedSettings):
    """Settings of ``lecture-inception-fooled``: classifier training set ``n_train``; ``atom_draws`` random atom
    triples; ``n_truth`` true draws for IS(true); ``power_repeats`` planted studies per strength; birthday tests of
    the generator (``fake_sizes`` x ``fake_repeats``) and of the true law (``true_sizes`` x ``true_repeats``) with a
    threshold from ``n_reference`` draws; neural-net distance on ``n_nnd`` draws per side (``nnd_steps``, ``nnd_K``,
    ``nnd_hidden``); ``deficit_max`` the tolerated deficit."""

    _limits = {"deficit_max": {"low": 0, "high": 1, "low_open": True, "high_open": True},
               "certificate_draws": {"low": 1000, "integer": True}}

    n_train: int
    atom_draws: int
    n_truth: int
    power_repeats: int
    fake_sizes: tuple[int, ...]
    fake_repeats: int
    true_sizes: tuple[int, ...]
    true_repeats: int
    n_reference: int
    n_nnd: int
    nnd_steps: int
    nnd_K: int
    nnd_hidden: tuple[int, ...]
    deficit_max: float = 0.1
    certificate_draws: int = 200_000

    def validate(self) -> None:
        if self.atom_draws < 20:
            raise ValueError(f"atom_draws must be >= 20 for the t interval on the mean deficit, got {self.atom_draws}")

    @classmethod
    def quick(cls) -> Settings:
        return cls(n_train=3000, atom_draws=200, n_truth=50000, power_repeats=40, fake_sizes=(2, 3, 4, 6, 8),
                   fake_repeats=60, true_sizes=(50, 200), true_repeats=10, n_reference=1000, n_nnd=600,
                   nnd_steps=150, nnd_K=4, nnd_hidden=(16, 16))

    @classmethod
    def full(cls) -> Settings:
        return cls(n_train=6000, atom_draws=1000, n_truth=400000, power_repeats=100,
                   fake_sizes=(2, 3, 4, 5, 6, 8, 10), fake_repeats=200, true_sizes=(50, 100, 200, 400), true_repeats=25,
                   n_reference=2000, n_nnd=2000, nnd_steps=300, nnd_K=4, nnd_hidden=(32, 32))


DIM = 8  # the labelled distribution: mode k is N(SEP e_k, I_DIM), k = 0, 1, 2, each with probability 1/3
SEP = 2.0
CLASSES = 3
FAKE_SUPPORT_MAX = 30  # the birthday test exposes the generator when its support estimate's upper limit is <= this


def _modes() -> np.ndarray:
    means = np.zeros((CLASSES, DIM))
    means[np.arange(CLASSES), np.arange(CLASSES)] = SEP
    return means


def _true_np(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    y = rng.integers(0, CLASSES, n)
    return _modes()[y] + rng.normal(size=(n, DIM)), y


def _true_torch(s: int, generator: torch.Generator) -> torch.Tensor:
    y = torch.randint(0, CLASSES, (s,), generator=generator)
    return torch.from_numpy(_modes())[y] + torch.randn(s, DIM, generator=generator, dtype=torch.float64)


def finite_inception_score(probs, weights=None) -> np.ndarray:
    """Exact inception score of generators of finite support: ``probs`` (..., m, c) the classifier's p(y|x) at
    the m atoms, ``weights`` (..., m) their probabilities (uniform when ``None``); returns (...)."""
    from scipy import special

    P = np.asarray(probs, dtype=np.float64)
    w = np.full(P.shape[:-1], 1.0 / P.shape[-2]) if weights is None else np.broadcast_to(weights, P.shape[:-1])
    py = (w[..., None] * P).sum(axis=-2)
    kl = special.rel_entr(P, py[..., None, :]).sum(axis=-1)
    return np.exp((w * kl).sum(axis=-1))


def _deficits(p_atoms: np.ndarray, p_flat: np.ndarray, w: float, is_true: float) -> np.ndarray:
    """delta of each triple (R,) for the generator that puts weight ``w`` on the uninformative atom."""
    R = p_atoms.shape[0]
    probs = np.concatenate([p_atoms, np.broadcast_to(p_flat, (R, 1, p_flat.size))], axis=1)
    weights = np.array([(1 - w) / 3] * 3 + [w])
    return (is_true - finite_inception_score(probs, weights)) / (is_true - 1)


CERTIFICATE_ALPHA = 1e-3
"""Error probability of the two-sided Hoeffding certificate of a planted generator's mean deficit."""


def certify_deficit(values: np.ndarray, is_true: float) -> tuple[float, float]:
    r"""Two-sided Hoeffding limits at ``1 - CERTIFICATE_ALPHA`` on the mean deficit, from i.i.d. deficits of
    random triples: the inception score of a law on 3 classes lies in [1, 3], so a deficit lies in
    ``[(IS(true) - 3) / (IS(true) - 1), 1]``, a range of ``2 / (IS(true) - 1)``.

    .. math:: |\bar\delta - E\,\delta| \le \frac{2}{\mathrm{IS} - 1}\sqrt{\frac{\log(2/\alpha)}{2R}}

    >>> lo, hi = certify_deficit(np.full(200_000, 0.2), is_true=2.0)
    >>> round(lo, 4), round(hi, 4)
    (0.1913, 0.2087)
    """
    values = np.asarray(values, dtype=np.float64)
    half = 2 / (is_true - 1) * float(np.sqrt(np.log(2 / CERTIFICATE_ALPHA) / (2 * values.size)))
    return float(values.mean() - half), float(values.mean() + half)


def _mean_upper(values: np.ndarray, *, seed: int | None = None) -> Estimate:
    """Mean with one-sided t limits at CONFIDENCE (normal approximation over i.i.d. random atom triples)."""
    m, se = float(values.mean()), float(values.std(ddof=1)) / np.sqrt(values.size)
    half = float(stats.t.ppf(CONFIDENCE, values.size - 1)) * se
    return Estimate(m, m - half, m + half, CONFIDENCE, int(values.size), "one-sided t (normal approximation)", seed,
                    sides=1)


def run(config: RunConfig, settings: Settings | None = None) -> ClaimResult:
    """Claim ``lecture-inception-fooled`` (module docstring: protocol, criterion, control)."""
    with one_torch_thread():
        return _run_inception(config, resolve_settings(Settings, config, settings))


def _triples(rng: np.random.Generator, R: int) -> np.ndarray:
    """(R, 3, DIM): one random draw of each mode per triple."""
    return _modes()[None] + rng.normal(size=(R, CLASSES, DIM))


def _run_inception(config: RunConfig, st: Settings) -> ClaimResult:
    from sklearn.linear_model import LogisticRegression

    from ...estimators import birthday_test, inception_score, neural_net_distance, threshold_from_reference

    streams = streams_for(config)
    X, y = _true_np(st.n_train, streams.numpy("classifier"))
    clf = LogisticRegression(max_iter=2000).fit(X, y)
    X_test, y_test = _true_np(4000, streams.numpy("held-out"))
    accuracy = float(clf.score(X_test, y_test))
    is_true = inception_score(clf.predict_proba(_true_np(st.n_truth, streams.numpy("truth"))[0]))
    proba = lambda a: clf.predict_proba(a.reshape(-1, DIM)).reshape(*a.shape[:-1], CLASSES)  # noqa: E731
    atoms = _triples(streams.numpy("atoms"), st.atom_draws)
    p_atoms = proba(atoms)
    is_fake = finite_inception_score(p_atoms)
    diff = is_fake - is_true
    p_flat = proba(_modes().mean(axis=0))  # the centroid of the modes: the classifier is least sure there
    measured = _mean_upper(_deficits(p_atoms, p_flat, 0.0, is_true))
    q_count = int((diff >= 0).sum())
    q = clopper_pearson(q_count, st.atom_draws, confidence=CONFIDENCE)

    # planted generators: weight w on the uninformative centroid, chosen on 10x as many triples; their mean deficit
    # then certified from both sides on a fresh, much larger set of triples (Hoeffding, the deficit's exact range)
    big = proba(_triples(streams.numpy("planted truth"), 10 * st.atom_draws))
    truth = lambda w: float(_deficits(big, p_flat, w, is_true).mean())  # noqa: E731
    ratios = (1.2, 1.5, 2.0, 2.5, 3.0)
    weights = []
    for ratio in ratios:
        lo, hi = 0.0, 1.0
        for _ in range(50):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if truth(mid) < ratio * st.deficit_max else (lo, mid)
        if truth(0.0) < ratio * st.deficit_max:
            weights.append(hi)
    cert = proba(_triples(streams.numpy("planted certificate"), st.certificate_draws))
    certified = [certify_deficit(_deficits(cert, p_flat, w, is_true), is_true) for w in weights]
    strengths = [hi for _, hi in certified]  # the upper certificate: detected cases violate by at most this
    detected = []
    for i, w in enumerate(weights):
        hits = 0
        for j in range(st.power_repeats):
            pa = proba(_triples(streams.numpy("power", i, j), st.atom_draws))
            hits += int(_mean_upper(_deficits(pa, p_flat, w, is_true)).ci_low > st.deficit_max)
        detected.append(hits)
    curve = PowerCurve(tuple(strengths), tuple(detected), st.power_repeats, st.atom_draws, st.deficit_max,
                       label="inception deficit", direction="upper", confidence=CONFIDENCE) if strengths else None
    control = None
    no_control = "the random triples' own deficit leaves no room for a planted control below 3 times the bound"
    if len(weights) >= 3:  # the ratio-2 strength exists
        i = len(weights) - len(ratios) + ratios.index(2.0)
        pc = proba(_triples(streams.numpy("control"), st.atom_draws))
        low, high = certified[i]
        cert_text = (f"Hoeffding over {st.certificate_draws} fresh random triples (exact IS each; the deficit lies in "
                     f"[(IS(true) - 3)/(IS(true) - 1), 1]), two-sided at {1 - CERTIFICATE_ALPHA:g}")
        ratio_low, ratio_high = low / st.deficit_max, high / st.deficit_max
        if NEAR_BOUNDARY[0] <= ratio_low and ratio_high <= NEAR_BOUNDARY[1]:
            control = NearBoundaryControl(
                f"uninformative atom with weight {weights[i]:.3f}", truth_low=low, truth_high=high,
                lower_certificate="lower limit, " + cert_text, upper_certificate="upper limit, " + cert_text,
                measured=_mean_upper(_deficits(pc, p_flat, weights[i], is_true)), bound=st.deficit_max)
        else:
            no_control = (f"the planted generator's certified deficit [{low:.3g}, {high:.3g}] is [{ratio_low:.2g}, "
                          f"{ratio_high:.2g}] times the bound, not inside [{NEAR_BOUNDARY[0]:g}, "
                          f"{NEAR_BOUNDARY[1]:g}]: no near-boundary control")

    # the birthday test and the neural-net distance against one support-3 generator (the first random triple)
    atoms_t = torch.from_numpy(atoms[0])

    def fake_sample(s: int, generator: torch.Generator) -> torch.Tensor:
        return atoms_t[torch.randint(0, CLASSES, (s,), generator=generator)]

    threshold = threshold_from_reference(torch.from_numpy(_true_np(st.n_reference, streams.numpy("reference"))[0]))
    bd_fake = birthday_test(fake_sample, sizes=st.fake_sizes, repeats=st.fake_repeats, threshold=threshold,
                            generator=streams.torch("birthday", "fake"))
    bd_true = birthday_test(_true_torch, sizes=st.true_sizes, repeats=st.true_repeats, threshold=threshold,
                            generator=streams.torch("birthday", "true"))
    true_collisions = int(sum(c.collisions for c in bd_true.curve))
    g_nnd = streams.torch("nnd")
    n = st.n_nnd
    p_sample = _true_torch(n, g_nnd)
    nnd_kw = {"hidden": st.nnd_hidden, "K": st.nnd_K, "steps": st.nnd_steps, "lr": 0.01}
    nnd_fake = neural_net_distance(p_sample, fake_sample(n, g_nnd), generator=g_nnd, **nnd_kw)
    nnd_true = neural_net_distance(p_sample, _true_torch(n, g_nnd), generator=g_nnd, **nnd_kw)
    birthday_exposes = bd_fake.support_estimate.ci_high <= FAKE_SUPPORT_MAX
    nnd_exposes = nnd_fake.ci_low > nnd_true.ci_high
    quiet_on_true = true_collisions == 0 and nnd_true.ci_low <= 0

    if control is None:
        verdict = "refuted" if measured.ci_low > st.deficit_max else "inconclusive"
        reason = no_control
    else:
        verdict, reason = decide(measured, st.deficit_max, control=control, resolution=curve, direction="upper")
    if verdict == "consistent" and not (birthday_exposes and nnd_exposes and quiet_on_true):
        verdict, reason = "inconclusive", reason + "; but the contrast failed (an attack missed the support-3 " \
                                                   "generator or flagged a fresh true sample)"
    se = float(measured.estimate - measured.ci_low) / float(stats.t.ppf(CONFIDENCE, st.atom_draws - 1))
    pvalue = None  # the one-sided t p-value of the null the verdict rejects
    if se > 0 and verdict in ("consistent", "refuted"):
        t_stat = (measured.estimate - st.deficit_max) / se
        pvalue = float(stats.t.cdf(t_stat, st.atom_draws - 1) if verdict == "consistent"
                       else stats.t.sf(t_stat, st.atom_draws - 1))
    quant = {f"q{int(100 * a)}": float(np.quantile(diff, a)) for a in (0.05, 0.25, 0.5, 0.75, 0.95)}
    measurements = {
        "classifier": {"kind": "LogisticRegression(lbfgs, multinomial)", "held_out_accuracy": accuracy,
                       "n_train": st.n_train},
        "inception_true": is_true, "n_truth": st.n_truth,
        "difference_support3_minus_true": {"mean": float(diff.mean()), **quant, "n": st.atom_draws},
        "probability_support3_at_least_true": q.to_dict(),
        "deficit": measured.to_dict(), "planted_weights": weights,
        "planted_certified_deficits": [list(c) for c in certified], "certificate_draws": st.certificate_draws,
        "birthday_fake": bd_fake.to_dict(), "birthday_true": bd_true.to_dict(), "true_collisions": true_collisions,
        "nnd_true_vs_fake": nnd_fake.to_dict(), "nnd_true_vs_true": nnd_true.to_dict(),
        "birthday_exposes": birthday_exposes, "nnd_exposes": nnd_exposes, "quiet_on_true": quiet_on_true,
        "atoms_of_the_tested_generator": atoms[0].tolist(),
    }
    figures = []
    if config.figures:
        figures = _inception_figure(config, X[:600], y[:600], atoms[0], diff, bd_fake, bd_true)
        if curve is not None:
            from .._common import power_figure

            figures.append(power_figure(curve, config.out_dir, "lecture-inception-fooled-power",
                                        xlabel="planted deficit (share of IS(true) - 1 lost)"))
    extra = {} if control is not None else {"control": measured, "control_caught": False}
    return make_result(
        "lecture-inception-fooled", config, st, verdict=verdict, measured=measured, near_control=control,
        power=curve, **extra, verdict_reason=reason, verdict_pvalue=pvalue,
        params={"dim": DIM, "sep": SEP, "classes": CLASSES, "fake_support_max": FAKE_SUPPORT_MAX,
                "confidence": CONFIDENCE, "atom_draws": st.atom_draws, "deficit_max": st.deficit_max},
        bound={"value": st.deficit_max,
               "label": "mean inception deficit (IS(true) - IS(support 3)) / (IS(true) - 1) <="},
        summary=(f"one random draw per mode: IS(support 3) - IS(true) mean {diff.mean():.3f}, median "
                 f"{quant['q50']:.3f}; Pr[IS(support 3) >= IS(true)] = {q.fmt()}; mean deficit {measured.fmt()}"),
        control_summary=(f"NND true-vs-generator {nnd_fake.fmt()} vs true-vs-true {nnd_true.fmt()}; birthday support "
                         f"{bd_fake.support_estimate.fmt()}; {true_collisions} collisions among true samples"),
        measurements=measurements, figures=figures,
        notes=[f"true law: equal mixture of N({SEP:g} e_k, I_{DIM}), k = 0..2; classifier held-out accuracy "
               f"{accuracy:.3f}; IS(true) = {is_true:.4f} from {st.n_truth} draws",
               "inception scores of the support-3 generators are exact (finite support); atoms are one random "
               "draw per mode, no search",
               f"birthday duplicate threshold {threshold:.4g} (threshold_from_reference on {st.n_reference} true "
               "draws)"])


def _inception_figure(config, X, y, atoms, diff, bd_fake, bd_true) -> list[str]:
    from ..._figures import new_figure, save_figure

    fig, axes = new_figure(3, 1, width=4.0, height=3.4)
    ax = axes[0, 0]
    for k, c in enumerate(("tab:blue", "tab:orange", "tab:green")):
        ax.scatter(X[y == k, 0], X[y == k, 1], s=4, alpha=0.4, color=c, label=f"mode {k}")
        ax.plot(atoms[k, 0], atoms[k, 1], "*", color=c, ms=14, mec="k")
    ax.set_xlabel("$x_0$")
    ax.set_ylabel("$x_1$")
    ax.set_title("true law and one random triple (stars)", fontsize=9)
    ax.legend(fontsize=7)
    ax = axes[0, 1]
    ax.hist(diff, bins=40, color="tab:purple", alpha=0.8)
    ax.axvline(0, color="k", ls="--")
    ax.set_xlabel("IS(support 3) - IS(true)")
    ax.set_title(f"{diff.size} random triples; share >= 0: {np.mean(diff >= 0):.2f}", fontsize=9)
    ax = axes[0, 2]
    for res, name in ((bd_fake, "support-3 generator"), (bd_true, "true law")):
        ax.plot(res.sizes, res.collision_rates, "o-", label=name)
    ax.set_xscale("log")
    ax.set_xlabel("sample size s")
    ax.set_ylabel("P(collision)")
    ax.legend(fontsize=7)
    ax.set_title("birthday test", fontsize=9)
    return [save_figure(fig, config.out_dir, "lecture-inception-fooled")]
