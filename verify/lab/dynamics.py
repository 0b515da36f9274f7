"""ganlimits.verify.lab.dynamics — the closed-form GAN of Li, Madry, Peebles & Schmidt 2017 on a mixture of two
Gaussians: the model and its gradients, the optimal discriminator, optimal-discriminator and first-order dynamics,
outcome classes and the settled horizon.

The entry points among these are also at the top of :mod:`ganlimits.verify.lab`; this module holds all of them under
one public name. Names load on first use (PEP 562).
"""

from ganlimits.theory._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    [f"ganlimits.verify.lab.{m}" for m in ("_li17_model", "_li17_roots", "_li17_dynamics", "_li17_outcomes",
                                           "_li17_horizon")],
)
