"""Bad Python API calls: each raises the named exception with one line naming the parameter, before computing."""

import math

import pytest
import torch

from ganlimits import theory as th
from ganlimits.verify import Estimate, RunConfig, Streams, claim_settings, run_claim, run_trials
from ganlimits.verify._results import check_out_dir
from ganlimits.verify.estimators import (
    bigan_gap,
    bonferroni_max,
    clopper_pearson,
    gap_from_values,
    hoeffding_interval,
    mean_interval,
)

T1 = dict(p=67, eps=0.1, lipschitz=4.6, phi_range=0.5, lphi=1)
T3 = dict(k=10, code_dim=2, dim=64, tv_budget=0.05)
EQ = dict(T1, generator_lipschitz=1)
E = dict(estimate=0.1, ci_low=0.0, ci_high=0.2, confidence=0.95, n=10)
NAN, INF = math.nan, math.inf


class _Target:
    def sample(self, n, generator=None):
        return torch.rand(n, 4, generator=generator, dtype=torch.float64), None


def _gap(discriminator=None, generator=None, **kw):
    args = dict(n=10, generator_rng=torch.Generator().manual_seed(0), phi="identity")
    args.update(kw)
    return bigan_gap(discriminator or (lambda x, c: torch.full((x.shape[0],), 0.5, dtype=torch.float64)),
                     generator or (lambda z: torch.zeros(z.shape[0], 4, dtype=torch.float64)),
                     lambda x: torch.zeros(x.shape[0], 2, dtype=torch.float64), _Target(), **args)


def _v(n):
    return lambda x, c: torch.full((n,), 0.5, dtype=torch.float64)


CASES = [
    # theory: Theorem 1
    *[(th.arz_thm1_support, dict(T1, p=v), "p") for v in (0, 0.5, -1, NAN, INF, True, "3")],
    *[(th.arz_thm1_support, dict(T1, eps=v), "eps") for v in (0, -1, NAN, 5)],
    (th.arz_thm1_support, dict(T1, lipschitz=0), "lipschitz"), (th.arz_thm1_support, dict(T1, phi_range=0),
                                                                "phi_range"),
    (th.arz_thm1_support, dict(T1, lphi=-1), "lphi"), (th.arz_thm1_support, dict(T1, eta=0), "eta"),
    (th.arz_thm1_support, dict(T1, eta=1), "eta"), (th.arz_thm1_support, dict(T1, eta=NAN), "eta"),
    (th.arz_thm1_support, dict(p=1, eps=0.9, lipschitz=0.1, phi_range=0.5, lphi=0.1), "p * phi_range"),
    # Theorem 3.1 and 4.2
    (th.agl17_thm31_samples, dict(T1, p=0.5), "p"), (th.agl17_thm31_samples, dict(T1, eps=10), "eps"),
    (th.agl17_thm31_samples, dict(T1, C=0), "C"), (th.agl17_thm31_samples, dict(T1, radius=0), "radius"),
    (th.agl17_thm31_samples, dict(T1, eta=1), "eta"), (th.agl17_thm31_samples, dict(T1, lphi=NAN), "lphi"),
    (th.agl17_thm31_samples, dict(p=1, eps=0.5, lipschitz=0.1, phi_range=0.5, lphi=0.1), "lipschitz * lphi"),
    (th.agl17_mixture_size, dict(EQ, generator_lipschitz=0), "generator_lipschitz"),
    (th.agl17_mixture_size, dict(EQ, p=2.5), "p"), (th.agl17_mixture_size, dict(EQ, eps=3), "eps"),
    (th.agl17_mixture_size, dict(EQ, lipschitz=0.001, generator_lipschitz=0.001), "generator_lipschitz"),
    (th.agl17_mixture_size, dict(EQ, C=-1), "C"),
    # Theorem 3
    *[(th.arz_thm3_summary, dict(T3, k=v), "k") for v in (1, 2.5, True, NAN)],
    (th.arz_thm3_summary, dict(T3, code_dim=0), "code_dim"), (th.arz_thm3_summary, dict(T3, dim=1), "dim"),
    (th.arz_thm3_summary, dict(T3, code_dim=64), "code_dim"), (th.arz_thm3_summary, dict(T3, tv_budget=0),
                                                               "tv_budget"),
    (th.arz_thm3_summary, dict(T3, tv_budget=1), "tv_budget"), (th.arz_thm3_summary, dict(T3, sigma=0), "sigma"),
    (th.arz_thm3_summary, dict(T3, code_dim=20), "k**code_dim"),
    (th.ramp_width_for_tv, dict(tv_budget=2, k=10, code_dim=2), "tv_budget"),
    (th.mismatch_probability, dict(k=10, code_dim=2, width=0), "width"),
    (th.mismatch_probability, dict(k=10, code_dim=2, width=NAN), "width"),
    (th.arz_thm3_block_count, dict(k=1, code_dim=2), "k"),
    (th.arz_thm3_weight_counts, dict(m=0, dim=4, code_dim=1, k=2), "m"),
    (th.arz_thm3_weight_counts, dict(m=4, dim=4.5, code_dim=1, k=2), "dim"),
    (th.agl17_selector_width, dict(tv_budget=0.1, T=0), "T"), (th.agl17_selector_width, dict(tv_budget=0.1, T=1.5),
                                                               "T"),
    (th.agl17_selector_width, dict(tv_budget=0, T=3), "tv_budget"),
    (th.agl17_selector_width, dict(tv_budget=1, T=3), "tv_budget"),
    (th.selector_ramp_bound, dict(q=-1, w=0.1), "q"), (th.selector_ramp_bound, dict(q=2, w=0), "w"),
    (th.normal_quantile_thresholds, dict(T=0), "T"),
    # birthday
    (th.uniform_collision_probability, dict(N=0, s=3), "N"), (th.uniform_collision_probability, dict(N=NAN, s=3), "N"),
    (th.uniform_collision_probability, dict(N=10, s=0.5), "s"),
    (th.uniform_collision_probability, dict(N=10, s=NAN), "s"),
    (th.s_half_uniform, dict(N=0), "N"), (th.s_half_uniform, dict(N=1, exact=True), "N"),
    (th.support_from_s_half, dict(s_half=0), "s_half"), (th.support_from_s_half, dict(s_half=1), "s_half"),
    (th.mass_set_collision_approx, dict(N=10, rho=0, M=3), "rho"),
    (th.mass_set_collision_approx, dict(N=10, rho=1.5, M=3), "rho"),
    (th.mass_set_collision_approx, dict(N=-1, rho=0.5, M=3), "N"),
    (th.beta_upper_bound, dict(M=1, gamma=0.5), "M"), (th.beta_upper_bound, dict(M=10, gamma=1), "gamma"),
    (th.beta_upper_bound, dict(M=10, gamma=-0.1), "gamma"),
    (th.hoeffding_half_width, dict(n=0, phi_range=1, alpha=0.05), "n"),
    (th.hoeffding_half_width, dict(n=10, phi_range=1, alpha=0), "alpha"),
    (th.hoeffding_half_width, dict(n=10, phi_range=1, alpha=1), "alpha"),
    (th.hoeffding_half_width, dict(n=10, phi_range=0, alpha=0.05), "phi_range"),
    *[(th.check_seed, dict(name="seed", value=v), "seed") for v in (-1, 2**63, 1.5, "3", True)],
    # results and runs
    *[(Estimate, dict(E, **kw), name) for kw, name in (
        ({"confidence": 7}, "confidence"), ({"n": -3}, "n"), ({"n": 2.5}, "n"), ({"confidence": 0}, "confidence"),
        ({"estimate": [1.0]}, "estimate"), ({"ci_low": 0.3}, "ci_low"), ({"sides": 3}, "sides"),
        ({"seed": -1}, "seed"), ({"estimate": "a"}, "estimate"), ({"confidence": NAN}, "confidence"))],
    *[(RunConfig, kw, name) for kw, name in (
        ({"seed": -1}, "seed"), ({"seed": 2**63}, "seed"), ({"n_jobs": 0}, "n_jobs"), ({"n_jobs": 1.5}, "n_jobs"),
        ({"out_dir": ""}, "out_dir"), ({"quick": "yes"}, "quick"), ({"scheduler": "nope"}, "scheduler"),
        ({"resume": 1}, "resume"))],
    (claim_settings, dict(claim_id="arz-thm3", overrides=["k=abc"]), "k"),
    (claim_settings, dict(claim_id="arz-thm3", overrides=["nosuch=1"]), "nosuch"),
    (claim_settings, dict(claim_id="arz-thm3", overrides={"tv_budget": 2.0}), "tv_budget"),
    (run_claim, dict(claim_id="arz-thm3", config="x"), "config"),
    (run_claim, dict(claim_id="arz-thm3", config=RunConfig(out_dir="{file}")), "out_dir"),
    (run_claim, dict(claim_id="arz-thm3", config=RunConfig(out_dir="{file}/sub")), "out_dir"),
    (run_claim, dict(claim_id="arz-thm3", config=RunConfig(out_dir="{dir}"), settings=object()), "settings"),
    (Streams, dict(seed=-1), "seed"), (Streams, dict(seed=2**63), "seed"),
    (lambda: Streams(0).seed(), {}, "name"), (lambda: Streams(0).seed(1.5), {}, "stream name"),
    (run_trials, dict(trial=lambda c, s: {}, configs=[({}, 1)], n_jobs=0), "n_jobs"),
    (run_trials, dict(trial=lambda c, s: {}, configs=[({}, 1)], scheduler=""), "scheduler"),
    (run_trials, dict(trial=lambda c, s: {}, configs=[(1, 2)]), "configs[0]"),
    (run_trials, dict(trial=lambda c, s: {}, configs=[({}, -1)]), "seed"),
    (run_trials, dict(trial=None, configs=[({}, 1)]), "trial"),
    (check_out_dir, dict(path=""), "out_dir"),
    # estimators
    (hoeffding_interval, dict(mean=NAN, n=10, value_range=1), "mean"),
    (hoeffding_interval, dict(mean=0.5, n=0, value_range=1), "n"),
    (hoeffding_interval, dict(mean=0.5, n=10, value_range=0), "value_range"),
    (hoeffding_interval, dict(mean=0.5, n=10, value_range=1, confidence=1.5), "confidence"),
    (clopper_pearson, dict(successes=2.5, n=10), "successes"), (clopper_pearson, dict(successes=3, n=0), "n"),
    (clopper_pearson, dict(successes=11, n=10), "successes"),
    (clopper_pearson, dict(successes=3, n=10, confidence=1), "confidence"),
    (bonferroni_max, dict(means=[0.1], n=0, value_range=1), "n"), (mean_interval, dict(values=[], value_range=1),
                                                                   "values"),
    (lambda: _gap(_v(11)), {}, "discriminator"), (lambda: _gap(_v(20)), {}, "discriminator"),
    (lambda: _gap(_v(5)), {}, "discriminator"),
    (lambda: _gap(generator=lambda z: torch.full((z.shape[0], 4), NAN, dtype=torch.float64)), {}, "generator"),
    (lambda: _gap(generator=lambda z: torch.zeros(3, 4, dtype=torch.float64)), {}, "generator"),
    (lambda: _gap(generator=lambda z: torch.zeros(z.shape[0], 4, device="meta")), {}, "generator"),
    (lambda: _gap(lambda x, c: torch.zeros(x.shape[0], device="meta")), {}, "discriminator"),
    (lambda: _gap(n=0), {}, "n"), (lambda: _gap(n=2.5), {}, "n"), (lambda: _gap(confidence=2), {}, "confidence"),
    (lambda: _gap(sigma=0), {}, "sigma"), (lambda: _gap(code_dim=0), {}, "code_dim"),
    (lambda: _gap(generator_rng=0), {}, "generator_rng"),
    (gap_from_values, dict(real_values=torch.zeros(2, 5), fake_values=torch.zeros(3, 5)), "members"),
    (gap_from_values, dict(real_values=torch.zeros(5), fake_values=torch.zeros(5), confidence=0), "confidence"),
    (gap_from_values, dict(real_values=torch.full((5,), 2.0), fake_values=torch.zeros(5)), "[0, 1]"),
]


def test_the_table_is_large_enough():
    assert len(CASES) >= 100


@pytest.mark.parametrize(("fn", "kwargs", "needle"), CASES, ids=[f"{i}-{n}" for i, (_, _, n) in enumerate(CASES)])
def test_bad_api_call_raises_a_one_line_error_naming_the_parameter(fn, kwargs, needle, tmp_path):
    (tmp_path / "file").write_text("x")
    kwargs = {k: (RunConfig(out_dir=str(v.out_dir).replace("{file}", str(tmp_path / "file"))
                            .replace("{dir}", str(tmp_path / "d"))) if isinstance(v, RunConfig) else v)
              for k, v in kwargs.items()}
    if fn is claim_settings:
        kwargs = dict(kwargs, quick=True)
    with pytest.raises((ValueError, KeyError)) as exc:
        if fn is run_claim and kwargs.get("config") != "x" and "settings" not in kwargs:
            fn(**kwargs)
        else:
            fn(**kwargs)
    message = str(exc.value)
    assert needle in message and "\n" not in message.strip(), message
    assert sorted(p.name for p in tmp_path.rglob("*")) in (["file"], ["d", "file"])
