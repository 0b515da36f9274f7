r"""The neural-net distance between two samples, estimated by a trained attacker of declared capacity, and
Wasserstein-1 for contrast.

Arora, Ge, Liang, Ma & Zhang 2017 (ICML), §2 (``docs/papers/agl17.md``): for a class F = {D_v : v in V in R^p} with
values in [0, 1],

.. math::

    d_{\mathcal F, \phi}(\mu, \nu) = \sup_{D \in \mathcal F} \mathbb E_{x\sim\mu} \phi(D(x))
    + \mathbb E_{x\sim\nu} \phi(1 - D(x)) - 2\phi(1/2),

which for phi = identity is sup_D E_mu D - E_nu D. Their Theorem 3.1 says the empirical distribution of a
few samples is close to the target in this distance while its Wasserstein distance stays large; the two
estimators here measure both sides of that contrast.

Shape letters: ``n_p``, ``n_q`` samples, ``d`` dimension, ``K`` discriminators, ``p`` capacity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats
from scipy.spatial.distance import cdist

from .._results import Estimate, to_jsonable
from ._attackers import train_attacker
from ._families import MLPFamily
from ._gap import _check_confidence, gap_from_values, member_gaps
from ._inputs import as_points, as_rng, draw, pick_rng, seed_of
from ._intervals import mean_interval
from ._phi import Phi, as_phi

__all__ = ["NNDInfo", "neural_net_distance", "wasserstein1", "nearest_distance_bound"]


@dataclass(frozen=True)
class NNDInfo:
    """What :func:`neural_net_distance` attacked with: the capacity p of one member, K, the Lipschitz constant
    in the parameters, the trained family, each member's objective on the held-out halves (``test_values``)
    and on the training halves (``train_values``), and the index of the best held-out member."""

    capacity: int
    K: int
    lipschitz: float
    family: MLPFamily
    test_values: torch.Tensor
    train_values: torch.Tensor
    best_member: int

    def to_dict(self) -> dict:
        """Everything but the family itself, as strict JSON values."""
        return to_jsonable({"capacity": self.capacity, "K": self.K, "lipschitz": self.lipschitz,
                            "test_values": self.test_values, "train_values": self.train_values,
                            "best_member": self.best_member, "family": self.family.name})


def _as_sample(sample, name: str, n: int | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    return draw(sample, name, n=n, rng=generator, min_rows=2)


def _split(sample: torch.Tensor, fraction: float, generator: torch.Generator, name: str):
    n = sample.shape[0]
    n_train = int(math.floor(fraction * n))
    if n_train < 1 or n_train > n - 1:
        raise ValueError(f"train_fraction={fraction} leaves an empty half of {name} (n={n})")
    perm = torch.randperm(n, generator=generator)
    return sample[perm[:n_train]], sample[perm[n_train:]]


def neural_net_distance(
    sample_p,
    sample_q,
    *,
    hidden: Sequence[int] = (64, 64),
    K: int = 8,
    phi: Phi | str = "identity",
    steps: int = 300,
    lr: float = 0.01,
    rng=None,
    confidence: float = 0.95,
    train_fraction: float = 0.5,
    family: MLPFamily | None = None,
    weight_norm: float = 1.0,
    bias_bound: float = 1.0,
    input_radius: float | None = None,
    batch_size: int | None = None,
    return_info: bool = False,
    n: int | None = None,
    generator: torch.Generator | None = None,
) -> Estimate | tuple[Estimate, NNDInfo]:
    r"""Estimate the neural-net distance d_{F,phi}(P, Q) between two samples by a trained attacker (Arora et
    al. 2017, §2.1, ``docs/papers/agl17.md``).

    .. math::

        \hat d = \max_{k \le K} \frac{1}{|P_{te}|}\sum_{x \in P_{te}} \phi(D_k(x))
        + \frac{1}{|Q_{te}|}\sum_{y \in Q_{te}} \phi(1 - D_k(y)) - 2\phi(1/2),

    where the K members of an :class:`MLPFamily` (capacity p, declared Lipschitz constant) are trained by
    projected gradient ascent on the training halves (``train_fraction`` of each sample, split by a random
    permutation from ``rng``) and scored on the held-out halves. Interval: two-sample Hoeffding with
    the range of phi on [0, 1], Bonferroni over the K members (see :mod:`ganlimits.verify._gap`); it covers
    the best trained member's population value, which is a LOWER bound on the distance over the whole class.

    ``sample_p`` (n_p, d), ``sample_q`` (n_q, d): arrays or tensors (1-D arrays are taken as d = 1), or samplers
    ``(n, generator) -> x`` / targets, each then drawn once for ``n`` points (first P, then Q, before anything
    else). ``rng``: an integer seed or a ``torch.Generator`` (``generator=`` is its former name). ``family``: a ready
    family to train (``steps=0``: only score it; the split still happens); else one is drawn with
    ``rng`` from ``hidden``, ``K``, ``weight_norm``, ``bias_bound`` and ``input_radius`` (default: the
    largest norm in the two training halves; held-out rows beyond it are radially clipped by the family).
    Order of draws from ``rng``: split of P, split of Q, the family's members, minibatches.

    The Estimate's ``method`` names K and the capacity p; ``return_info=True`` returns
    ``(Estimate, NNDInfo)``.
    """
    phi = as_phi(phi)
    confidence = _check_confidence(confidence)
    if not (isinstance(train_fraction, (int, float)) and 0 < train_fraction < 1):
        raise ValueError(f"train_fraction must lie in the open interval (0, 1), got {train_fraction!r}")
    generator = pick_rng(rng, generator, "generator")
    p_all = _as_sample(sample_p, "sample_p", n, generator)
    q_all = _as_sample(sample_q, "sample_q", n, generator)
    if p_all.shape[1] != q_all.shape[1]:
        raise ValueError(f"sample_p and sample_q must have the same width d, got {p_all.shape[1]} and "
                         f"{q_all.shape[1]}")
    p_train, p_test = _split(p_all, train_fraction, generator, "sample_p")
    q_train, q_test = _split(q_all, train_fraction, generator, "sample_q")
    if family is None:
        if input_radius is None:
            input_radius = float(torch.linalg.vector_norm(torch.cat([p_train, q_train]), dim=1).max())
            input_radius = max(input_radius, 1e-12)
        family = MLPFamily(in_dim=p_all.shape[1], hidden=hidden, K=K, weight_norm=weight_norm,
                           bias_bound=bias_bound, input_radius=input_radius, generator=generator)
    elif not isinstance(family, MLPFamily):
        raise ValueError(f"family must be None or an MLPFamily, got {family!r}")
    elif family.in_dim != p_all.shape[1]:
        raise ValueError(f"family has in_dim={family.in_dim} but the samples have d={p_all.shape[1]}")
    if steps:
        family = train_attacker(family, real=p_train, fake=q_train, phi=phi, steps=steps, lr=lr,
                                generator=generator, objective="nnd", sign="+", batch_size=batch_size)
    test_p, test_q = family(p_test), family(q_test)
    est = gap_from_values(test_p, test_q, phi=phi, confidence=confidence, absolute=False, objective="nnd",
                          name=family.name, seed=seed_of(generator))
    est = Estimate(est.estimate, est.ci_low, est.ci_high, est.confidence, est.n,
                   f"trained attacker (K={family.K}, p={family.capacity}), held-out {est.method}", est.seed)
    if not return_info:
        return est
    test_values = member_gaps(test_p, test_q, phi=phi, objective="nnd", name=family.name)
    train_values = member_gaps(family(p_train), family(q_train), phi=phi, objective="nnd", name=family.name)
    info = NNDInfo(capacity=family.capacity, K=family.K, lipschitz=family.lipschitz_in_parameters(),
                   family=family, test_values=test_values, train_values=train_values,
                   best_member=int(torch.argmax(test_values)))
    return est, info


def _as_points(sample, name: str) -> np.ndarray:
    return as_points(sample, name, allow_1d=True).numpy()


def wasserstein1(
    x,
    y,
    *,
    method: str = "auto",
    n_projections: int = 200,
    rng=None,
    confidence: float = 0.95,
    max_exact: int = 4000,
    weights_x=None,
    weights_y=None,
) -> Estimate:
    r"""Wasserstein-1 (Euclidean cost) between two discrete laws, by POT (Flamary et al., JMLR 2021).

    .. math::

        W_1(\hat\mu, \hat\nu) = \min_{\pi \in \Pi(\hat\mu, \hat\nu)} \mathbb E_\pi \|x - y\|_2,
        \qquad SW_1 = \mathbb E_{\theta \sim U(S^{d-1})} W_1(\theta_\#\hat\mu, \theta_\#\hat\nu)
        \le W_1.

    ``x`` (n, d), ``y`` (m, d) (1-D arrays: d = 1), the atoms; ``weights_x`` (n,), ``weights_y`` (m,) their
    probabilities (uniform when ``None``, i.e. the empirical laws). Methods:

    - ``"exact"``: the transport linear programme solved exactly by network simplex, ``ot.emd2`` on the n x m
      Euclidean cost matrix (any sizes, any d; n, m <= ``max_exact``). Returns a zero-width interval, method
      ``"exact (ot.emd2)"``.
    - ``"sliced"``: the mean of exact 1-D W1 over ``n_projections`` uniform random directions drawn with
      ``rng`` (an integer seed or a torch.Generator), each by
      ``ot.sliced_wasserstein_distance`` with p = 1. Each 1-D W1 is
      <= W1 (projection is 1-Lipschitz), so this estimates a LOWER bound on W1. Its interval is Hoeffding over
      the directions, with range the diameter bound ``2 max_k ||w_k - c||`` over the pooled points (c their
      mean), clipped at 0.
    - ``"auto"``: exact when n, m <= ``max_exact``, sliced otherwise. The method used is named in the result.

    >>> round(wasserstein1([[0.0, 0.0], [2.0, 0.0]], [[0.0, 1.0]]).estimate, 6)
    1.618034
    """
    import ot

    if method not in ("auto", "exact", "sliced"):
        raise ValueError(f"method must be 'auto', 'exact' or 'sliced', got {method!r}")
    a, b = _as_points(x, "x"), _as_points(y, "y")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"x and y must have the same width d, got {a.shape[1]} and {b.shape[1]}")
    n, m, d = a.shape[0], b.shape[0], a.shape[1]
    wa, wb = _weights(weights_x, n, "weights_x"), _weights(weights_y, m, "weights_y")
    if method == "auto":
        method = "exact" if max(n, m) <= max_exact else "sliced"
    if method == "exact":
        if max(n, m) > max_exact:
            raise ValueError(f"method='exact' builds an n x m cost matrix; n = {n}, m = {m} exceed max_exact = "
                             f"{max_exact} (raise max_exact, or use method='sliced')")
        value = float(ot.emd2(wa, wb, cdist(a, b), numItermax=max(100_000, 50 * (n + m))))
        return _exact_estimate(value, min(n, m), "exact (ot.emd2)")
    if rng is None:
        raise ValueError("rng must be an integer seed or a torch.Generator for method='sliced'")
    generator = as_rng(rng)
    if isinstance(n_projections, bool) or not isinstance(n_projections, int) or n_projections < 1:
        raise ValueError(f"n_projections must be an integer >= 1, got {n_projections!r}")
    theta = torch.randn(d, n_projections, generator=generator, dtype=torch.float64).numpy()
    theta /= np.linalg.norm(theta, axis=0, keepdims=True)
    _, log = ot.sliced_wasserstein_distance(a, b, wa, wb, p=1, projections=theta, log=True)
    values = np.asarray(log["projected_emds"], dtype=np.float64)
    pooled = np.concatenate([a, b])
    diameter = 2.0 * float(np.linalg.norm(pooled - pooled.mean(axis=0), axis=1).max())
    if diameter <= 0:
        return _exact_estimate(0.0, min(n, m), "sliced (all points equal)")
    est = mean_interval(np.clip(values, 0.0, diameter), value_range=diameter, confidence=confidence,
                        seed=seed_of(generator))
    return Estimate(est.estimate, max(0.0, est.ci_low), est.ci_high, est.confidence, n_projections,
                    f"sliced W1 over {n_projections} directions (lower bound on W1; ot.sliced_wasserstein_distance), "
                    "hoeffding", est.seed)


def _weights(w, n: int, name: str) -> np.ndarray:
    if w is None:
        return np.full(n, 1.0 / n)
    arr = np.asarray(w, dtype=np.float64).ravel()
    if arr.shape != (n,) or not np.all(np.isfinite(arr)) or np.any(arr < 0) or arr.sum() <= 0:
        raise ValueError(f"{name} must be {n} finite non-negative weights, not all 0")
    return arr / arr.sum()


def _exact_estimate(value: float, n: int, method: str) -> Estimate:
    return Estimate(value, value, value, 1.0, int(n), method)


def nearest_distance_bound(points: torch.Tensor, fresh: torch.Tensor, *, confidence: float = 0.95
                           ) -> Estimate:
    r"""Mean distance from fresh target points to the nearest of the m points: a lower bound on W1(μ̂_m, μ).

    .. math::

        W_1(\hat\mu_m, \mu) \ge \mathbb E_{x\sim\mu} \min_{i \le m} \|x - x_i\|_2,

    since every coupling of μ with μ̂_m moves x to one of the x_i. ``points`` (m, d), ``fresh`` (n, d).
    Interval: normal approximation (CLT) for the mean of the n distances (they are unbounded, so no
    Hoeffding range exists); the method says so. The nearest point is found with ``torch.cdist`` in row
    chunks (n x m is never held at once); its distance is then recomputed directly, so that the
    matrix-product form of cdist leaves no rounding error of ~1e-8 ``|x|`` (a point at distance 0 gets 0).
    """
    points, fresh = as_points(points, "points"), as_points(fresh, "fresh", dim=None)
    if points.shape[1] != fresh.shape[1]:
        raise ValueError(f"points and fresh must have the same width d, got {points.shape[1]} and {fresh.shape[1]}")
    n, m = fresh.shape[0], points.shape[0]
    rows = max(1, (1 << 22) // max(m, 1))
    index = torch.cat([torch.cdist(fresh[i:i + rows], points).argmin(dim=1) for i in range(0, n, rows)])
    nearest = torch.linalg.vector_norm(fresh - points[index], dim=1)
    mean = float(nearest.mean())
    half = float(stats.norm.ppf(0.5 + confidence / 2)) * float(nearest.std()) / math.sqrt(n)
    return Estimate(mean, mean - half, mean + half, confidence, n,
                    "normal approximation (CLT); lower bound on W1(mu_hat_m, mu)")
