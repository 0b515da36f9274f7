"""The training claims share one lab settings base (``verify/claims/_training.py``): each claim's ``Settings`` is a
:class:`TrainingSettings`, its :meth:`lab_config` is the lab configuration the claim trained with before the base
existed (written out here field by field, as each claim built it), and a ``--set`` of a shared field reaches the
configuration every training trial receives."""

import dataclasses

import pytest

from ganlimits.verify import RunConfig
from ganlimits.verify._registry import claim_module, claim_settings
from ganlimits.verify.claims._training import SettledHorizonSettings, TrainingSettings
from ganlimits.verify.lab import LabConfig
from ganlimits.verify.lab.regime import SettleRule

TRAINING_CLAIMS = ("veegan-benchmark", "agl17-mixgan", "az17-diversity", "arz-trained-bigan")

# every lab field a claim carries, set away from its default (distinct values, so a field left out or mapped to
# the wrong lab field shows)
_AWAY = {"width": "24", "depth": "3", "noise_dim": "5", "batch_size": "48", "lr_g": "7e-4", "lr_d": "3e-4",
         "beta1": "0.4", "beta2": "0.95", "unroll_steps": "3", "n_critic": "2", "gp_weight": "7.0",
         "recon_weight": "0.5", "recon_std": "0.8", "g_width": "20", "g_depth": "4", "code_dim": "3"}


def _lab_before(claim: str, s) -> LabConfig:
    """The lab configuration each claim passed to its trainer before the shared base (its own field tuple or
    constructor call, copied here)."""
    shared = {"batch_size": s.batch_size, "lr_g": s.lr_g, "lr_d": s.lr_d, "beta1": s.beta1,
              "lr_schedule": s.lr_schedule}
    if claim == "veegan-benchmark":
        return LabConfig(width=s.width, depth=s.depth, noise_dim=s.noise_dim, beta2=s.beta2,
                         unroll_steps=s.unroll_steps, n_critic=s.n_critic, gp_weight=s.gp_weight,
                         recon_weight=s.recon_weight, recon_std=s.recon_std, **shared)
    if claim == "agl17-mixgan":
        return LabConfig(width=s.width, depth=s.depth, noise_dim=s.noise_dim, beta2=s.beta2, **shared)
    if claim == "az17-diversity":
        return LabConfig(width=s.g_width, depth=s.g_depth, noise_dim=s.noise_dim, beta2=s.beta2, **shared)
    return LabConfig(width=s.width, depth=s.depth, noise_dim=s.code_dim, **shared)  # arz-trained-bigan


def _variants(claim: str):
    cls = claim_module(claim).Settings
    away = [f"{k}={v}" for k, v in _AWAY.items() if k in {f.name for f in dataclasses.fields(cls)}]
    return {"quick": cls.quick(), "full": cls.full(), "every lab field moved": claim_settings(claim, quick=True,
                                                                                             overrides=away)}


@pytest.mark.parametrize("claim", TRAINING_CLAIMS)
def test_each_training_claim_derives_from_the_base_and_makes_the_lab_config_it_trained_with(claim):
    cls = claim_module(claim).Settings
    assert issubclass(cls, TrainingSettings), claim
    assert issubclass(cls, SettledHorizonSettings) == (claim != "veegan-benchmark"), claim
    for name, s in _variants(claim).items():
        expected = _lab_before(claim, s)
        assert s.lab_config() == expected, (claim, name)
        if name == "every lab field moved":
            assert expected != _lab_before(claim, cls.quick()), claim  # the overrides did move it
        if claim == "veegan-benchmark":  # the 1200-D mixture's own batch, when set
            big = s.batch_size if s.batch_size_1200d is None else s.batch_size_1200d
            assert s.lab_config("mixture_1200d") == dataclasses.replace(expected, batch_size=big), name
            assert s.lab_config("grid") == expected, name


@pytest.mark.parametrize("claim", [c for c in TRAINING_CLAIMS if c != "veegan-benchmark"])
def test_the_settle_rule_is_made_from_the_settle_fields(claim):
    s = claim_settings(claim, quick=True, overrides=["settle_window=3", "settle_persist=2", "settle_hq_tol=0.07"])
    assert s.settle_rule(0.25) == SettleRule(window=3, hq_tol=0.07, persist=2, hq_floor=0.25)
    with pytest.raises(ValueError, match="lr_schedule"):  # a settled horizon needs a constant rate
        claim_settings(claim, quick=True, overrides=["lr_schedule=linear"])


class _Stop(Exception):
    """Raised by the captured sweep: the jobs are what the test needs, not the training."""


@pytest.mark.parametrize("claim", TRAINING_CLAIMS)
def test_a_set_of_a_shared_field_reaches_every_trained_config(claim, monkeypatch, tmp_path):
    """``--set lr_g=...`` (the CLI's path: :func:`claim_settings`) changes the lab config of every training trial the
    claim hands to its sweep, and nothing else of it."""
    module = claim_module(claim)
    s = claim_settings(claim, quick=True, overrides=["lr_g=0.00037"])
    jobs = []

    def capture(trial, configs, **kwargs):  # the claim's first sweep is its training
        jobs.extend(configs)
        raise _Stop

    monkeypatch.setattr(module, "run_trials", capture)
    with pytest.raises(_Stop):
        module.run(RunConfig(quick=True, out_dir=tmp_path, progress=False), s)
    trained = [cfg for cfg, _ in jobs if "lab" in cfg]
    assert trained and all(cfg.get("kind", "train") == "train" for cfg in trained), claim
    before = _lab_before(claim, module.Settings.quick())
    for cfg in trained:
        lab = LabConfig(**cfg["lab"])
        made = s.lab_config(cfg["target"]) if claim == "veegan-benchmark" else s.lab_config()
        assert lab == made and lab.lr_g == 0.00037, claim
        assert dataclasses.replace(lab, lr_g=before.lr_g) == before, claim  # nothing else moved
