"""The settings every training claim shares: the lab's networks and optimiser, the settle rule and the scoring sample
(``docs/papers/veegan.md``, "The lab"; ``docs/design.md``, "Training verdicts only in regime").

A training claim's ``Settings`` derives from :class:`TrainingSettings` instead of repeating these fields; its own
fields (step caps such as ``steps_2d``, seeds, targets, the claim's statistics) come on top, and a claim may give a
shared field another default by declaring it again. The fields are keyword-only, so a claim's own fields without
defaults may follow them; ``--set batch_size=256`` reaches them as any other field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .._settings import CheckedSettings

__all__ = ["TrainingSettings"]


@dataclass(frozen=True, kw_only=True)
class TrainingSettings(CheckedSettings):
    """The lab fields of a training claim.

    Networks and optimiser (:class:`~ganlimits.verify.lab.LabConfig`): ``depth`` hidden layers of ``width`` ReLU
    units, noise dimension ``noise_dim``, minibatches of ``batch_size``, Adam with rates ``lr_g`` (generator and
    encoder) and ``lr_d`` (discriminator), betas ``(beta1, beta2)``, ``lr_schedule`` ``"constant"`` (the papers';
    a settled horizon needs it). Settle rule (:class:`~ganlimits.verify.lab.SettleRule`): windows of
    ``settle_window`` snapshots whose mean high-quality share moves by at most ``settle_hq_tol``, held for
    ``settle_persist`` snapshots in a row. Each snapshot scores ``n_eval`` samples.
    """

    _limits: ClassVar[dict[str, dict]] = {
        "lr_schedule": {"choices": ("constant",)},
        "beta1": {"low": 0, "high": 1, "high_open": True},
        "beta2": {"low": 0, "high": 1, "high_open": True},
    }

    width: int = 128
    depth: int = 2
    noise_dim: int = 16
    batch_size: int = 128
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    lr_schedule: str = "constant"
    settle_window: int = 5
    settle_persist: int = 2
    settle_hq_tol: float = 0.05
    n_eval: int = 2500

    def lab_config(self, **changes):
        """The :class:`~ganlimits.verify.lab.LabConfig` of these fields (``changes`` override any of its fields,
        e.g. a target's own batch size)."""
        from ..lab import LabConfig

        fields = {f: getattr(self, f) for f in ("width", "depth", "noise_dim", "batch_size", "lr_g", "lr_d", "beta1",
                                                "beta2", "lr_schedule")}
        return LabConfig(**{**fields, **changes})

    def settle_rule(self, **changes):
        """The :class:`~ganlimits.verify.lab.SettleRule` of these fields (``changes``: e.g. the regime's
        ``hq_floor`` and a target's ``min_steps``)."""
        from ..lab import SettleRule

        return SettleRule(**{"window": self.settle_window, "persist": self.settle_persist,
                             "hq_tol": self.settle_hq_tol, **changes})
