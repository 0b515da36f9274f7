"""The settings every training claim shares: the lab's minibatch, optimiser and scoring sample, the settled-horizon
rule, and the lab configuration they make (``docs/papers/veegan.md``, "The lab"; ``docs/design.md``, "Training
verdicts only in regime").

A training claim's ``Settings`` derives from :class:`TrainingSettings` (``veegan-benchmark``) or from
:class:`SettledHorizonSettings` (``agl17-mixgan``, ``az17-diversity``, ``arz-trained-bigan``) instead of repeating
these fields; its own fields (step caps such as ``steps_2d``, seeds, targets, the claim's statistics) come on top, and
a claim may give a shared field another default by declaring it again. The shared fields are keyword-only, so a
claim's own fields without defaults may follow them; ``--set batch_size=256`` reaches them as any other field, and a
result's settings record them as before.

Which fields are shared is fixed by the names the claims' settings already carry (their ``--set`` keys): a field
every training claim names alike lives here; a field some claim names otherwise stays in the claims. The lab's
networks: ``width``, ``depth``, ``noise_dim`` and ``beta2`` in ``veegan-benchmark`` and ``agl17-mixgan``; the
generator's ``g_width`` x ``g_depth`` (its discriminator's width is the variable) in ``az17-diversity``; the BiGAN's
noise is its ``code_dim`` in ``arz-trained-bigan``. The settle rule: ``veegan-benchmark`` names its fields as
:class:`~ganlimits.verify.lab.regime.SettleRule` does (``window``, ``hq_tol``, ``persist``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from .._settings import CheckedSettings
from ..lab import LR_SCHEDULES
from ._common import one_torch_thread

__all__ = ["TrainingSettings", "SettledHorizonSettings", "one_torch_thread"]

_BETA = {"low": 0, "high": 1, "high_open": True}


@dataclass(frozen=True, kw_only=True)
class TrainingSettings(CheckedSettings):
    """The lab fields every training claim sets, and the :class:`~ganlimits.verify.lab.LabConfig` it trains with.

    Minibatches of ``batch_size``, Adam with rates ``lr_g`` (generator and encoder) and ``lr_d`` (discriminator) and
    first-moment decay ``beta1``, ``lr_schedule`` (``"constant"``, the papers' and the one a settled horizon needs,
    or ``"linear"``), and ``n_eval`` samples scored per snapshot (VEEGAN's 2,500).

    :meth:`lab_config` takes every field of the settings named as a field of
    :class:`~ganlimits.verify.lab.LabConfig` (``width``, ``depth``, ``noise_dim``, ``beta2``, a method's
    ``unroll_steps`` ...); a claim that names a lab field otherwise maps it in ``_lab_names`` (lab field -> the
    claim's field). Lab fields a claim does not set keep the lab's defaults.
    """

    _limits: ClassVar[dict[str, dict]] = {"beta1": _BETA, "beta2": _BETA, "lr_schedule": {"choices": LR_SCHEDULES},
                                          "n_eval": {"low": 100, "integer": True}}
    _lab_names: ClassVar[dict[str, str]] = {}

    batch_size: int = 128
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    beta1: float = 0.5
    lr_schedule: str = "constant"
    n_eval: int = 2500

    def lab_config(self, **changes):
        """The :class:`~ganlimits.verify.lab.LabConfig` of these settings (``changes`` override any of its fields,
        e.g. a target's own batch size)."""
        from ..lab import LabConfig

        mine = {f.name for f in dataclasses.fields(self)}
        lab = {}
        for f in dataclasses.fields(LabConfig):
            name = self._lab_names.get(f.name, f.name)
            if name in mine:
                lab[f.name] = getattr(self, name)
        return LabConfig(**{**lab, **changes})


@dataclass(frozen=True, kw_only=True)
class SettledHorizonSettings(TrainingSettings):
    """A training claim whose runs stop at the lab's settled horizon, set by these fields: windows of
    ``settle_window`` snapshots whose mean high-quality share moves by at most ``settle_hq_tol``, held for
    ``settle_persist`` snapshots in a row (:class:`~ganlimits.verify.lab.regime.SettleRule`). The rate stays constant
    (``lr_schedule``): a decaying rate depends on the cap, so a run stopped early would not be the prefix of a
    longer one."""

    _limits: ClassVar[dict[str, dict]] = TrainingSettings._limits | {"settle_hq_tol": {"low": 0, "high": 1}}

    settle_window: int = 5
    settle_persist: int = 2
    settle_hq_tol: float = 0.05

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.lr_schedule != "constant":
            raise ValueError("lr_schedule must be 'constant': runs train to a settled horizon (a decaying rate "
                             "depends on the cap)")

    def settle_rule(self, hq_floor: float = 0.0, **changes):
        """The :class:`~ganlimits.verify.lab.regime.SettleRule` of these fields; ``hq_floor`` the regime's floor (a run
        still at the diffuse level keeps training), ``changes`` any other field of the rule (e.g. ``min_steps``)."""
        from ..lab.regime import SettleRule

        return SettleRule(**{"window": self.settle_window, "hq_tol": self.settle_hq_tol,
                             "persist": self.settle_persist, "hq_floor": hq_floor, **changes})
