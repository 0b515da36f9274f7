"""Theorem 3's formulas (Arora, Risteski & Zhang 2017): ramp width <-> TV bound, the exact ramp mass, the
weight count, the largest weight, the symbolic cell measure 1/m, and the `bound arz-thm3` summary."""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, special

from ganlimits.theory import arz_thm3_summary
from ganlimits.theory.arz17 import (
    GENERATOR_LAYER_WEIGHTS,
    GENERATOR_MAX_WEIGHT,
    GENERATOR_NUM_WEIGHTS,
    MISMATCH_PROBABILITY,
    RAMP_MASS_PER_COORDINATE,
    RAMP_WIDTH_FOR_TV,
    TV_BOUND_FOR_WIDTH,
    arz_thm3_block_count,
    arz_thm3_weight_counts,
    cell_measure_symbolic,
    mismatch_probability,
    ramp_width_for_tv,
)
from ganlimits.verify._cli import main as cli_main

k, d_code, d, m, sigma, delta, w = sp.symbols("k d_code d m sigma tv_budget w", positive=True)


def test_width_and_tv_bound_are_inverse_symbolically():
    assert sp.simplify(TV_BOUND_FOR_WIDTH.expr.subs(w, RAMP_WIDTH_FOR_TV.expr) - delta) == 0
    assert sp.simplify(RAMP_WIDTH_FOR_TV.expr - delta * sigma * sp.sqrt(sp.pi / 2) / (d_code * (k - 1))) == 0


def test_weight_count_formula():
    expected = m * d + 6 * m + d + 4 * k * d_code + 2 * d_code
    assert sp.expand(GENERATOR_NUM_WEIGHTS.expr - expected) == 0
    assert sp.expand(sum(GENERATOR_LAYER_WEIGHTS.values()) - expected) == 0
    # negative control: the paper's bare m d is not the count
    assert sp.expand(GENERATOR_NUM_WEIGHTS.expr - m * d) != 0


@given(st.integers(2, 20), st.integers(1, 4), st.integers(1, 50))
def test_weight_counts_numeric(k_, dc, extra):
    m_ = k_**dc
    counts = arz_thm3_weight_counts(m=m_, dim=dc + extra, code_dim=dc, k=k_)
    assert counts["total"] == sum(v for name, v in counts.items() if name != "total")
    assert counts["total"] == m_ * (dc + extra) + 6 * m_ + (dc + extra) + 4 * k_ * dc + 2 * dc


def test_weight_count_exact_for_huge_m():
    counts = arz_thm3_weight_counts(m=2**53, dim=1000, code_dim=53, k=2)
    assert counts["memory"] == 2**53 * 1000  # exact integer, beyond float64 precision
    assert isinstance(counts["total"], int)


def _union_mass_by_quadrature(k_, width, sigma_):
    """Independent oracle: integrate the density of |z| over the union of ramps (tau_j - w, tau_j) on a fine
    partition of [0, tau_{k-1}] (scipy quad on each merged interval)."""
    tau = sigma_ * np.sqrt(2) * special.erfinv(np.arange(1, k_) / k_)
    ivs = sorted((max(0.0, t - width), t) for t in tau)
    merged = []
    for a, b in ivs:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    dens = lambda t: math.sqrt(2 / math.pi) / sigma_ * math.exp(-t * t / (2 * sigma_ * sigma_))
    return sum(integrate.quad(dens, a, b, epsabs=1e-14, epsrel=1e-12)[0] for a, b in merged)


@given(st.integers(2, 12), st.floats(1e-4, 3.0), st.sampled_from([0.5, 1.0, 3.0]))
def test_ramp_mass_against_quadrature(k_, width, sigma_):
    q = float(RAMP_MASS_PER_COORDINATE(k=k_, w=width, sigma=sigma_))
    assert q == pytest.approx(_union_mass_by_quadrature(k_, width, sigma_), rel=1e-8, abs=1e-12)


@given(st.integers(2, 12), st.integers(1, 5), st.floats(1e-4, 0.999), st.sampled_from([0.5, 1.0, 3.0]))
def test_mismatch_below_linear_bound(k_, dc, tv, sigma_):
    width = ramp_width_for_tv(tv_budget=tv, k=k_, code_dim=dc, sigma=sigma_)
    q = float(RAMP_MASS_PER_COORDINATE(k=k_, w=width, sigma=sigma_))
    exact = mismatch_probability(k=k_, code_dim=dc, width=width, sigma=sigma_)
    assert exact == pytest.approx(1 - (1 - q) ** dc, rel=1e-12)
    assert exact <= dc * q * (1 + 1e-12)
    assert dc * q <= float(TV_BOUND_FOR_WIDTH(d_code=dc, k=k_, w=width, sigma=sigma_)) * (1 + 1e-9)
    assert float(TV_BOUND_FOR_WIDTH(d_code=dc, k=k_, w=width, sigma=sigma_)) == pytest.approx(tv, rel=1e-12)


def test_mismatch_known_values():
    # k = 2: one ramp (tau_1 - w, tau_1), tau_1 = Phi^-1(3/4); for w >= tau_1 it covers [0, tau_1): mass 1/2.
    assert float(MISMATCH_PROBABILITY(k=2, d_code=1, w=5.0, sigma=1.0)) == pytest.approx(0.5, abs=1e-15)
    tau1 = special.ndtri(0.75)
    q = 0.5 - (2 * special.ndtr(tau1 - 0.1) - 1)
    exact3 = float(MISMATCH_PROBABILITY(k=2, d_code=3, w=0.1, sigma=1.0))
    assert exact3 == pytest.approx(1 - (1 - q) ** 3, rel=1e-12)
    # negative control: the sum without the clip at tau_{j-1} would overcount once ramps overlap
    naive = sum(j / 3 - (2 * special.ndtr(np.sqrt(2) * special.erfinv(j / 3) - 0.9) - 1) for j in (1, 2))
    exact = float(RAMP_MASS_PER_COORDINATE(k=3, w=0.9, sigma=1.0))
    assert exact == pytest.approx(2 / 3, abs=1e-12) and naive > exact + 0.1


def test_max_weight_formula():
    assert GENERATOR_MAX_WEIGHT(k=10, d_code=4, w=1e-3) == pytest.approx(1000.0)
    assert GENERATOR_MAX_WEIGHT(k=10, d_code=4, w=0.1) == pytest.approx(1000.0)  # k^(d'-1) dominates
    assert GENERATOR_MAX_WEIGHT(k=3, d_code=1, w=0.9) == pytest.approx(2.0)


@pytest.mark.parametrize("k_, dc", [(2, 1), (2, 4), (3, 2), (5, 3), (7, 2), (10, 2)])
def test_cell_measure_symbolic(k_, dc):
    res = cell_measure_symbolic(k_, dc)
    assert res["m"] == k_**dc
    assert res["cell_measures"] == frozenset({sp.Rational(1, k_**dc)})
    assert all(sp.simplify(mass - sp.Rational(1, k_)) == 0 for mass in res["interval_masses"])


def test_cell_measure_symbolic_negative_control():
    # Control: the same computation with tau_1 moved off its quantile (by a symbol eps) gives unequal cells.
    eps = sp.Symbol("eps", positive=True)
    s = sp.Symbol("sigma", positive=True)
    Phi = lambda x: (1 + sp.erf(x / sp.sqrt(2))) / 2
    tau1 = s * sp.sqrt(2) * sp.erfinv(sp.Rational(1, 3)) + eps
    F = lambda t: 2 * Phi(t / s) - 1
    first = sp.simplify(F(tau1) - F(0))
    assert sp.simplify(first - sp.Rational(1, 3)) != 0


def test_summary_values():
    out = arz_thm3_summary(k=10, code_dim=4, dim=64, tv_budget=0.01)
    assert set(out) >= {"m", "ramp_width", "num_nonzero_weights", "max_weight", "tv_bound"}
    assert out["m"] == 10_000
    assert out["ramp_width"] == pytest.approx(0.01 * math.sqrt(math.pi / 2) / (4 * 9), rel=1e-14)
    assert out["num_nonzero_weights"] == 10_000 * 64 + 6 * 10_000 + 64 + 4 * 10 * 4 + 2 * 4
    assert out["max_weight"] == pytest.approx(max(1 / out["ramp_width"], 1000.0, 2.0), rel=1e-14)
    assert out["tv_bound"] == pytest.approx(0.01, rel=1e-12)
    assert out["mismatch_probability"] <= out["tv_bound"]


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(k=1, code_dim=2, dim=5, tv_budget=0.1), "k"),
        (dict(k=2.5, code_dim=2, dim=5, tv_budget=0.1), "k"),
        (dict(k=3, code_dim=0, dim=5, tv_budget=0.1), "code_dim"),
        (dict(k=3, code_dim=5, dim=5, tv_budget=0.1), "code_dim"),
        (dict(k=3, code_dim=40, dim=50, tv_budget=0.1), "code_dim"),  # 3**40 > 2**53
        (dict(k=3, code_dim=2, dim=5, tv_budget=0.0), "tv_budget"),
        (dict(k=3, code_dim=2, dim=5, tv_budget=1.0), "tv_budget"),
        (dict(k=3, code_dim=2, dim=5, tv_budget=0.1, sigma=-1.0), "sigma"),
    ],
)
def test_summary_rejects(kwargs, name):
    with pytest.raises(ValueError, match=name):
        arz_thm3_summary(**kwargs)


def test_block_count_limit():
    assert arz_thm3_block_count(k=2, code_dim=53) == 2**53
    with pytest.raises(ValueError, match="2\\*\\*53"):
        arz_thm3_block_count(k=2, code_dim=54)


def test_cli_bound_arz_thm3(capsys):
    assert cli_main(["bound", "arz-thm3", "--k", "10", "--code-dim", "4", "--dim", "64", "--tv", "0.01"]) == 0
    out = capsys.readouterr().out
    assert "num_nonzero_weights: 700232" in out and "ramp_width:" in out and "max_weight:" in out
    assert cli_main(["bound", "arz-thm3", "--k", "1", "--code-dim", "4", "--dim", "64", "--tv", "0.01"]) == 2
    assert cli_main(["bound", "arz-thm3", "--k", "3", "--code-dim", "4", "--dim", "64", "--tv", "1.5"]) == 2
    err = capsys.readouterr().err
    assert "tv" in err and "Traceback" not in err
