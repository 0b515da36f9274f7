"""Bad Python API calls: each raises the named exception with one line naming the parameter, before computing."""

import math
import re

import numpy as np
import pytest
import torch

from ganlimits import theory as th
from ganlimits.theory import agl17 as th_agl17
from ganlimits.theory import arz17 as th_arz17
from ganlimits.theory import az17 as th_az17
from ganlimits.verify import ClaimResult, Estimate, RunConfig, claim_settings, run_claim
from ganlimits.verify._report import holm
from ganlimits.verify._results import check_out_dir
from ganlimits.verify.estimators import bigan_gap, clopper_pearson, gap_from_values, hoeffding_interval
from ganlimits.verify.estimators.intervals import (
    binomial_pvalue,
    bonferroni_max,
    hoeffding_pvalue,
    loglog_slope,
    mean_interval,
)
from ganlimits.verify.runs import Streams, run_trials

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
    (th_arz17.ramp_width_for_tv, dict(tv_budget=2, k=10, code_dim=2), "tv_budget"),
    (th_arz17.mismatch_probability, dict(k=10, code_dim=2, width=0), "width"),
    (th_arz17.mismatch_probability, dict(k=10, code_dim=2, width=NAN), "width"),
    (th_arz17.arz_thm3_block_count, dict(k=1, code_dim=2), "k"),
    (th_arz17.arz_thm3_weight_counts, dict(m=0, dim=4, code_dim=1, k=2), "m"),
    (th_arz17.arz_thm3_weight_counts, dict(m=4, dim=4.5, code_dim=1, k=2), "dim"),
    (th_agl17.agl17_selector_width, dict(tv_budget=0.1, T=0), "T"),
    (th_agl17.agl17_selector_width, dict(tv_budget=0.1, T=1.5), "T"),
    (th_agl17.agl17_selector_width, dict(tv_budget=0, T=3), "tv_budget"),
    (th_agl17.agl17_selector_width, dict(tv_budget=1, T=3), "tv_budget"),
    (th_agl17.selector_ramp_bound, dict(q=-1, w=0.1), "q"), (th_agl17.selector_ramp_bound, dict(q=2, w=0), "w"),
    (th_agl17.normal_quantile_thresholds, dict(T=0), "T"),
    # birthday
    (th.uniform_collision_probability, dict(N=0, s=3), "N"), (th.uniform_collision_probability, dict(N=NAN, s=3), "N"),
    (th.uniform_collision_probability, dict(N=10, s=0.5), "s"),
    (th.uniform_collision_probability, dict(N=10, s=NAN), "s"),
    (th.s_half_uniform, dict(N=0), "N"), (th.s_half_uniform, dict(N=1, exact=True), "N"),
    (th.support_from_s_half, dict(s_half=0), "s_half"), (th.support_from_s_half, dict(s_half=1), "s_half"),
    (th_az17.mass_set_collision_approx, dict(N=10, rho=0, M=3), "rho"),
    (th_az17.mass_set_collision_approx, dict(N=10, rho=1.5, M=3), "rho"),
    (th_az17.mass_set_collision_approx, dict(N=-1, rho=0.5, M=3), "N"),
    (th.beta_upper_bound, dict(M=1, gamma=0.5), "M"), (th.beta_upper_bound, dict(M=10, gamma=1), "gamma"),
    (th.beta_upper_bound, dict(M=10, gamma=-0.1), "gamma"),
    (th_arz17.hoeffding_half_width, dict(n=0, phi_range=1, alpha=0.05), "n"),
    (th_arz17.hoeffding_half_width, dict(n=10, phi_range=1, alpha=0), "alpha"),
    (th_arz17.hoeffding_half_width, dict(n=10, phi_range=1, alpha=1), "alpha"),
    (th_arz17.hoeffding_half_width, dict(n=10, phi_range=0, alpha=0.05), "phi_range"),
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


# ---- hardening II: classes of input nobody had tried --------------------------------------------------------------
# Each class is a table (or a hypothesis property) of calls; every call must end in a ValueError naming the argument
# (never an allocator error, a hang, a traceback of another type) or in a correct value.

TIB = 2**40  # every size below asks for >= 1 TiB: a missing refusal fails at once in the allocator, never thrashes
_g = torch.Generator().manual_seed(0)


def _noise(dim=4, code_dim=1):
    from ganlimits.constructions import NoiseModel

    return NoiseModel(dim=dim, code_dim=code_dim)


def _sizes():
    import ganlimits.constructions as C
    import ganlimits.constructions.circuits as CC

    return [
        (lambda: th_agl17.normal_quantile_thresholds(T=10**10 * 20), "T"),
        (lambda: C.NoiseModel(dim=TIB, code_dim=1), "dim"),
        (lambda: C.noise_positions(dim=TIB, code_dim=TIB // 2), "code_dim"),
        (lambda: C.GaussianBlockPartition(k=TIB, code_dim=1), "k"), (lambda: C.gaussian_thresholds(k=TIB), "k"),
        (lambda: C.ring(n_modes=TIB), "n_modes"), (lambda: C.ring(n_modes=np.int64(TIB)), "n_modes"),
        (lambda: C.grid().sample(TIB, generator=_g), "n"), (lambda: C.digits().sample(TIB // 16, generator=_g), "n"),
        (lambda: C.mixture_1200d().sample(TIB // 256, generator=_g), "n"),
        (lambda: C.grid().sample_components(TIB, generator=_g), "n"),
        (lambda: C.GaussianBlockPartition(k=3, code_dim=2).sample_codes(TIB, generator=_g), "n"),
        (lambda: C.NoisedTarget(clean=C.grid(), noise=_noise(2)).sample(TIB, generator=_g), "n"),
        (lambda: C.ContaminatedTarget(C.grid(), rate=0.5, image=[0.0, 0.0]).sample(TIB, generator=_g), "n"),
        (lambda: C.FoldedMixtureGenerator(centres=[[0.0, 1.0], [1.0, 0.0]], std=0.1).sample(TIB, generator=_g), "n"),
        (lambda: C.mixture_generator_from_target(C.grid(), T=TIB, std=0.01, generator=_g), "T"),
        (lambda: C.mixture_generator_from_sample(torch.randn(50, 2, generator=_g), T=TIB, std=0.01, n_components=2,
                                                 generator=_g), "T"),
        (lambda: C.memorizing_generator(C.grid(), _noise(2), k=2**30, generator=_g), "k"),
        (lambda: C.hashed_memorizing_generator(C.mixture_1200d(), _noise(1200, 2), k=2**16, seed=0).materialize(),
         "m"),
        (lambda: CC.HatLayer(m=TIB), "m"), (lambda: CC.AbsLayer(code_dim=TIB), "code_dim"),
        (lambda: CC.IndexLayer(k=2, code_dim=TIB), "code_dim"),
        (lambda: CC.StepLayer(thresholds=[0.5], width=0.1, code_dim=TIB), "code_dim"),
    ]


SIZE_CASES = list(range(23))


def test_every_size_case_is_listed():
    assert len(_sizes()) == len(SIZE_CASES)


@pytest.mark.parametrize("i", SIZE_CASES)
def test_a_request_beyond_the_memory_budget_is_refused_by_name(i):
    call, name = _sizes()[i]
    with pytest.raises(ValueError) as exc:
        call()
    message = str(exc.value)
    assert message.startswith(f"{name} = ") and "GiB" in message and "budget" in message, message


PVALUE_CASES = [
    (lambda: hoeffding_pvalue(NAN, n=10, value_range=1), "distance"),
    (lambda: hoeffding_pvalue("0.1", n=10, value_range=1), "distance"),
    (lambda: hoeffding_pvalue(0.1, n=0, value_range=1), "n"),
    (lambda: hoeffding_pvalue(0.1, n=NAN, value_range=1), "n"),
    (lambda: hoeffding_pvalue(0.1, n=10, value_range=0), "value_range"),
    (lambda: hoeffding_pvalue(0.1, n=10, value_range=1, K=0), "K"),
    (lambda: hoeffding_pvalue(0.1, n=10, value_range=1, K=2.5), "K"),
    (lambda: binomial_pvalue(3, 10, 1.5, alternative="less"), "p0"),
    (lambda: binomial_pvalue(3, 10, -0.1, alternative="less"), "p0"),
    (lambda: binomial_pvalue(3, 10, NAN, alternative="greater"), "p0"),
    (lambda: binomial_pvalue(11, 10, 0.5, alternative="less"), "successes"),
    (lambda: binomial_pvalue(-1, 10, 0.5, alternative="greater"), "successes"),
    (lambda: binomial_pvalue(2.5, 10, 0.5, alternative="greater"), "successes"),
    (lambda: binomial_pvalue(3, 0, 0.5, alternative="greater"), "n"),
    (lambda: binomial_pvalue(3, 10, 0.5, alternative="two-sided"), "alternative"),
    (lambda: holm({"a": NAN, "b": 0.01}), "'a'"), (lambda: holm({"a": 1.5}), "'a'"), (lambda: holm({"a": -0.1}), "'a'"),
    (lambda: holm({"a": "0.01"}), "'a'"), (lambda: holm({"a": True}), "'a'"), (lambda: holm({"a": INF}), "'a'"),
    (lambda: holm({"a": 0.01}, alpha=0), "alpha"), (lambda: holm({"a": 0.01}, alpha=NAN), "alpha"),
    (lambda: holm([0.01]), "pvalues"),
    (lambda: loglog_slope([0.0, 1.0, 2.0], [[1.0, 2, 3, 4]] * 3), "x"),
    (lambda: loglog_slope([-1.0, 1.0], [[1.0, 2, 3, 4]] * 2), "x"),
]


@pytest.mark.parametrize("i", range(len(PVALUE_CASES)))
def test_a_p_value_or_probability_out_of_its_domain_is_an_error(i):
    call, needle = PVALUE_CASES[i]
    with pytest.raises(ValueError, match=re.escape(needle)):
        call()


_R = dict(source="s", verdict="inconclusive", params={}, seed=0, measured=Estimate.exact(0.0), bound={})
RESULT_CASES = [
    (dict(claim="no-such-claim"), "claim"), (dict(claim=None), "claim"), (dict(seed=-3), "seed"),
    (dict(seed=2**63), "seed"), (dict(seed="0"), "seed"), (dict(seed=1.5), "seed"), (dict(notes=None), "notes"),
    (dict(notes=[1]), "notes"), (dict(bound="abc"), "bound"), (dict(control_caught="yes"), "control_caught"),
    (dict(elapsed_s="abc"), "elapsed_s"), (dict(elapsed_s=-1.0), "elapsed_s"), (dict(figures="a.png"), "figures"),
    (dict(verdict="consistent", verdict_pvalue=NAN, control_caught=True), "verdict_pvalue"),
    (dict(verdict="refuted", verdict_pvalue=1.5), "verdict_pvalue"), (dict(measured=0.1), "measured"),
    (dict(control=(0.1, 0.2)), "control"), (dict(threads=-1), "threads"), (dict(quick="yes"), "quick"),
    (dict(params=None), "params"), (dict(control_true_value="0.2"), "control_true_value"),
    (dict(source=None), "source"), (dict(resolution=[]), "resolution"), (dict(git_commit=5), "git_commit"),
]


@pytest.mark.parametrize(("fields", "needle"), RESULT_CASES, ids=[n for _, n in RESULT_CASES])
def test_a_claim_result_with_an_unknown_claim_a_bad_seed_or_a_wrong_type_is_refused(fields, needle):
    with pytest.raises(ValueError, match=needle):
        ClaimResult(**{"claim": "arz-thm1", **_R, **fields})


def test_numpy_scalars_in_a_claim_result_are_taken_as_python_values():
    """The control of the class above: numpy booleans and floats (what claims compute) are accepted as such."""
    r = ClaimResult("arz-thm1", **{k: v for k, v in _R.items()}, control_caught=np.bool_(True),
                    control_true_value=np.float64(0.2), elapsed_s=np.float32(1.5), notes=("a",))
    assert r.control_caught is True and type(r.control_true_value) is float and r.notes == ["a"]


SETTINGS_CASES = [
    ("arz-thm3", {"tv_sweep": ()}, "tv_sweep"), ("arz-thm3", ["tv_sweep=()"], "tv_sweep"),
    ("arz-thm3", ["tv_sweep=[]"], "tv_sweep"), ("arz-thm1", ["power_factors=()"], "power_factors"),
    ("arz-thm1", {"power_factors": []}, "power_factors"), ("arz-thm1", ["attack.hidden=()"], "attack.hidden"),
    ("arz-thm3", [f"control_factor={10**400}"], "control_factor"), ("arz-thm3", {"control_factor": 10**400},
                                                                     "control_factor"),
    ("arz-thm3", [f"tv_budget={10**400}"], "tv_budget"), ("arz-thm3", ["control_factor=1e400"], "control_factor"),
    ("az17-birthday", ["ms=()"], "ms"),
]


@pytest.mark.parametrize(("cid", "overrides", "needle"), SETTINGS_CASES,
                         ids=[f"{c}-{str(o)[:30]}" for c, o, _ in SETTINGS_CASES])
def test_an_empty_or_out_of_range_override_is_refused_naming_the_setting(cid, overrides, needle):
    with pytest.raises(ValueError) as exc:
        claim_settings(cid, quick=True, overrides=overrides)
    message = str(exc.value)
    assert message.startswith(f"setting {needle}") and "\n" not in message, message


def test_an_empty_tuple_the_claim_itself_uses_is_accepted():
    """The control: agl17-thm31's quick setting skips its m-grid sweep with m_grid = (), so () is a value there."""
    assert claim_settings("agl17-thm31", quick=False, overrides=["m_grid=()"]).m_grid == ()


_OVERRIDE_VALUES = ["()", "[]", "(1e400,)", "1e400", str(10**400), "-1", "0", "nan", "inf", "((1,),)", "{}", "'x'",
                    "None", "True", "[[1]]", "(0.5, -0.5)", "1_000", "0x10", "1e-320", "2**70", "(", "[1, 'a']"]


@pytest.mark.parametrize("cid", ["arz-thm3", "arz-thm1", "agl17-thm31", "az17-birthday", "lecture-optimal-d"])
def test_fuzzed_overrides_are_accepted_or_refused_by_name(cid):
    """Property over every settable field of a claim and a set of hostile values (a hypothesis test): the result is
    settings whose fields keep their declared types, or a one-line ValueError naming the field."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from ganlimits.verify._registry import claim_module
    from ganlimits.verify._settings import settings_fields

    fields = sorted(settings_fields(claim_module(cid).Settings))

    @settings(max_examples=40, deadline=None)
    @given(key=st.sampled_from(fields), value=st.sampled_from(_OVERRIDE_VALUES) | st.text(max_size=6))
    def check(key, value):
        try:
            claim_settings(cid, quick=True, overrides=[f"{key}={value}"])
        except ValueError as exc:
            assert str(exc).startswith(f"setting {key}") and "\n" not in str(exc), str(exc)

    check()


SCHEDULER_CASES = [
    ("foo:bar", "port"), ("tcp://localhost", "port"), ("localhost:70000", "port"), ("tcp://h:0", "port"),
    ("tcp://h:-1", "port"), ("tcp://h:8786/x", "port"), ("http://localhost:8786", "tcp://"), ("inproc://x", "tcp://"),
    ("ucx://10.0.0.5:8786", "tcp://"), ("tls://10.0.0.5:8786", "tcp://"), ("ws://h:1", "tcp://"), (":8786", "host"),
    ("tcp://:8786", "host"), ("tcp://::1:8786", "host"), ("tcp://a b:1", "address"), ("", "address"),
    ("tcp://h:８７８６", "port"), (8786, "address"), (None, "address"),
]


@pytest.mark.parametrize(("address", "needle"), SCHEDULER_CASES, ids=[repr(a) for a, _ in SCHEDULER_CASES])
def test_a_malformed_scheduler_address_is_refused_before_anything_is_tried(address, needle):
    from ganlimits.verify._sweep import check_scheduler

    with pytest.raises(ValueError, match=needle):
        check_scheduler(address)


def test_a_scheduler_that_does_not_answer_is_one_error_within_one_bounded_timeout(monkeypatch):
    """Unknown host, refused port, a TCP service that is not Dask (an HTTP server), and a server that accepts but
    never answers: each a ValueError naming the address, within the (shortened) bound."""
    import socket
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from ganlimits.verify._sweep import dask_client

    pytest.importorskip("distributed")
    class Quiet(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    http = HTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)  # accepts (in the kernel) and never answers
    refused = socket.socket()
    refused.bind(("127.0.0.1", 0))
    closed_port = refused.getsockname()[1]
    refused.close()
    try:
        for address in ("tcp://no-such-host.invalid:8786", f"tcp://127.0.0.1:{closed_port}",
                        f"tcp://127.0.0.1:{http.server_port}", f"127.0.0.1:{silent.getsockname()[1]}"):
            start = time.monotonic()
            with pytest.raises(ValueError, match="no Dask scheduler answered at") as exc:
                dask_client(address, timeout=1.5)
            assert time.monotonic() - start < 6 and address in str(exc.value) and "\n" not in str(exc.value)
    finally:
        http.shutdown()
        silent.close()


# ---- numbers that must not be silently wrong ----------------------------------------------------------------------

def test_small_collision_tails_keep_their_digits():
    """Property (hypothesis) over N in [1e6, 1e300] and small s: the exponential lower bound and the rho^2 form are
    positive and equal their exact values to 1e-12 relative (they underflowed to 0.0 at N = 1e20)."""
    import mpmath
    from hypothesis import example, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=50, deadline=None)
    @given(log10_n=st.floats(6, 300), s=st.integers(2, 60), rho=st.floats(0.01, 1))
    @example(log10_n=20, s=23, rho=0.5)
    def check(log10_n, s, rho):
        N = 10.0**log10_n
        with mpmath.workdps(60):
            lower = -mpmath.expm1(-mpmath.mpf(s) * (s - 1) / (2 * mpmath.mpf(N)))
            approx = -mpmath.expm1(-mpmath.mpf(s) * (s - 1) * mpmath.mpf(rho) ** 2 / (2 * mpmath.mpf(N)))
        for got, want in ((th.uniform_collision_probability(N=N, s=s, exact=False), lower),
                          (th_az17.mass_set_collision_approx(N=N, rho=rho, M=s), approx)):
            if want > 1e-300:  # float64 holds it: it must not be 0
                assert got > 0 and abs(got - float(want)) <= 1e-12 * float(want), (N, s, got, want)

    check()


def test_the_mass_on_a_set_bound_is_exact_at_large_supports():
    """Against the same sum in mpmath at 50 digits: the float64 form lost every digit beyond N ~ 1e12 (it gave
    -1.97 at N = 1e15) and raised a TypeError at N = 1e20."""
    from ganlimits.theory.az17 import MASS_SET_COLLISION_LOWER

    for N, rho, M in ((10**12, 0.5, 1000), (10**15, 0.5, 200), (10**20, 0.5, 23), (1000, 0.1, 200), (365, 0.3, 23)):
        got = th.mass_set_collision_lower(N=N, rho=rho, M=M)
        want = float(MASS_SET_COLLISION_LOWER.precise(dps=50, N=N, rho=rho, M=M))
        assert abs(got - want) <= 1e-10 * want, (N, got, want)


LONG_CASES = [
    (lambda: th_arz17.mismatch_probability(k=2**40, code_dim=1, width=1e-15), "k"),
    (lambda: th.mass_set_collision_lower(N=10**20, rho=0.5, M=10**7), "M"),
    (lambda: th.mass_set_collision_lower(N=10**20, rho=0.5, M=10**10, k="best"), "M"),
]


@pytest.mark.parametrize("i", range(len(LONG_CASES)))
def test_a_long_computation_of_known_size_is_refused_by_name(i):
    call, name = LONG_CASES[i]
    with pytest.raises(ValueError, match=rf"^{name} = "):
        call()


def test_theorem_3_at_k_2_to_the_53_answers_in_closed_form_at_once():
    """It hung (a term-by-term sum of 2^53 terms); the closed-form values come back, the exact sum says why not."""
    import time

    start = time.monotonic()
    out = th.arz_thm3_summary(k=2**53, code_dim=1, dim=64, tv_budget=0.01)
    assert time.monotonic() - start < 5
    assert out["m"] == 2**53 and out["tv_bound"] == pytest.approx(0.01) and out["mismatch_probability"] is None
    assert "not computed" in out["mismatch_probability_note"]
    near = th.arz_thm3_summary(k=10**6, code_dim=1, dim=64, tv_budget=0.01)  # the vectorised sum, at scale
    assert 0 < near["mismatch_probability"] <= near["tv_bound"]
