r"""The pieces of claim ``arz-trained-bigan``: one trained ALI/BiGAN pair per (target, seed), the toolkit's instruments
run on it, and the planted leaking encoder of the probe's power curve (Arora, Risteski & Zhang 2017, arXiv
1711.02651, Theorem 1; ``docs/papers/arz17.md``, "What a trained BiGAN's codes mean").

- :func:`train_pair` — the lab's ALI/BiGAN (:class:`~ganlimits.verify.lab.BiGAN`, one step of
  :meth:`~ganlimits.verify.lab.BiGAN.step` per generator update) trained on any sampler with ``sample(n, generator=)``;
  the theorem's target μ (jittered digits with d' coordinates replaced by N(0, 1) noise) is not a mixture with one
  standard deviation, which the lab's :func:`~ganlimits.verify.lab.train_gan` (it scores mode metrics) requires;
- :func:`pair_trial` — one pure, picklable trial: train, then measure the BiGAN gap (the ``arz-thm1`` verdict attack
  and a stronger trained attacker), the label probe of E(x) with its chance level and the PCA baselines (top-d'
  principal components of x, and of its clean positions only), how much of the noise coordinates E reads, how well
  a logistic probe tells real from generated images by the image alone, the reconstruction ratio and the birthday
  support of G;
- :func:`leak_trial` — one repeat of the probe's power curve against
  :class:`~ganlimits.constructions.LabelLeakingEncoder` at a known rate, through the same probe at the same n.

Shape letters: ``n`` samples, ``d`` data dimension, ``d_code`` code dimension, ``b`` batch size, ``s`` birthday
sample size.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from sklearn.decomposition import PCA

from ganlimits.constructions import LabelLeakingEncoder, class_probabilities, digits

from .._streams import Streams
from ..estimators import (
    birthday_test,
    leak_test,
    pilot_sizes,
    probe_accuracy,
    reconstruction_ratio,
    threshold_from_reference,
)
from ..lab import LabConfig, build_method, lab_target, mode_metrics, run_steps
from ._arz import AttackSettings, World, verdict_attack

__all__: list[str] = []



class CodedTarget:
    """A target with the attributes :func:`~ganlimits.verify.claims._arz.verdict_attack` reads: ``sample``, the code
    std ``sigma`` and ``code_dim``. Wraps a lab mixture, on which the trained G draws ``z ~ N(0, I_{d_code})``."""

    def __init__(self, target, *, code_dim: int, sigma: float = 1.0) -> None:
        self.target, self.code_dim, self.sigma = target, int(code_dim), float(sigma)
        self.dim, self.n_classes, self.description = target.dim, target.n_classes, target.description

    def sample(self, n: int, *, generator: torch.Generator):
        return self.target.sample(n, generator=generator)


def build_world(cfg: dict[str, Any]):
    """(the target the pair trains on and is attacked on, its population chance level, the noise model or None).

    ``cfg["target"]`` is ``"digits"`` (the theorem's μ: ``World.build("digits", ...)``, code std 1) or a lab
    mixture name (``"grid"``, ``"ring"``), wrapped with code std 1."""
    if cfg["target"] == "digits":
        w = World.build("digits", code_dim=cfg["code_dim"], sigma=1.0, jitter=cfg["jitter"])
        return w.mu, float(np.max(class_probabilities(digits()))), w
    t = lab_target(cfg["target"])
    return CodedTarget(t, code_dim=cfg["code_dim"]), float(np.max(class_probabilities(t))), None


def train_pair(target, *, steps: int, seed: int, config: LabConfig):
    r"""Train the lab's ALI/BiGAN on ``target`` for ``steps`` generator updates; returns (G, E, final losses, seconds).

    .. math::

        \max_D\ \mathbb E_x \log\sigma(D(x, E(x))) + \mathbb E_z \log(1 - \sigma(D(G(z), z))),\qquad
        \min_{G, E}\ (\text{the non-saturating form, } ganlimits.verify.lab.BiGAN)

    Streams of ``Streams(seed)`` as in :func:`~ganlimits.verify.lab.train_gan`: ``"init"`` (weights), ``"data"``
    (real minibatches), ``"noise"`` (the method's z); the lab's one loop (:func:`~ganlimits.verify.lab.run_steps`:
    chunked draws, the linear or constant learning-rate schedule of ``config``). Bit-identical for a fixed seed and
    thread count.
    """
    streams = Streams(seed)
    method = build_method("ali", data_dim=target.dim, config=config, generator=streams.torch("init"))
    data_gen, noise_gen = streams.torch("data"), streams.torch("noise")
    start, last = time.perf_counter(), {}

    def keep(done: int, losses) -> None:
        last["losses"] = losses

    run_steps(method, target, steps=steps, config=config, data_gen=data_gen, noise_gen=noise_gen, on_step=keep)
    return (method.generator_callable(), method.encoder_callable(), [float(v) for v in last["losses"]],
            time.perf_counter() - start)


def labelled(target, n: int, g: torch.Generator):
    """``(x, labels)``: n draws of the target with their class labels (digit class or mixture component)."""
    x, y = target.sample(n, generator=g)
    return x, y


def probe(codes_of, target, cfg: dict[str, Any], g: torch.Generator, chance: float, *, seed: int | None = None,
          pca: bool = False) -> dict:
    """The verdict's probe: label from ``codes_of(x, y)`` trained on ``n_train`` draws, tested one-sided against the
    population ``chance`` on ``n_test`` fresh draws (:func:`~ganlimits.verify.leak_test`). With ``pca`` also the
    baseline: the same probe on the top-``code_dim`` principal components of x (fitted on the training draws)."""
    x_tr, y_tr = labelled(target, cfg["n_train"], g)
    x_te, y_te = labelled(target, cfg["n_test"], g)
    with torch.no_grad():
        c_tr, c_te = codes_of(x_tr, y_tr), codes_of(x_te, y_te)
    out = {"codes": leak_test(c_tr.numpy(), y_tr.numpy(), c_te.numpy(), y_te.numpy(), chance=chance,
                              confidence=cfg["confidence"], seed=seed)}
    if pca:
        parts = {"pca": slice(None)}
        if hasattr(target, "noise"):  # the noise coordinates (variance 1) dominate the pixels' variance
            parts["pca_clean"] = target.noise.clean_positions
        for name, P in parts.items():
            a_tr, a_te = x_tr[:, P].numpy(), x_te[:, P].numpy()
            p = PCA(n_components=cfg["code_dim"], svd_solver="full").fit(a_tr)
            out[name] = leak_test(p.transform(a_tr), y_tr.numpy(), p.transform(a_te), y_te.numpy(), chance=chance,
                                  confidence=cfg["confidence"], seed=seed)
    return out


def leak_trial(cfg: dict[str, Any], seed: int) -> dict:
    """One repeat of the power curve: the verdict's probe (same n) against an encoder that writes the label into the
    code at rate ``cfg["rate"]`` and otherwise returns the noise coordinates (true excess ρ (1 - max_c π_c))."""
    torch.set_num_threads(1)
    streams = Streams(seed)
    target, chance, w = build_world(cfg)
    leaky = LabelLeakingEncoder(w.noise, rate=cfg["rate"], n_classes=target.n_classes, sigma=1.0,
                                generator=streams.torch("leak"))
    got = probe(leaky, target, cfg, streams.torch("sample"), chance, seed=seed)["codes"]
    return {"detected": bool(got["accuracy"].ci_low > cfg["bound"]), "accuracy": got["accuracy"].to_dict()}


def noise_read(E, target, n: int, g: torch.Generator) -> float | None:
    """How much of the noise coordinates z the encoder reads: R² of the least-squares fit of z from [E(x), 1] on
    n draws of μ (1 for the theorem's encoder E(x) = z; near 0 for a code that ignores z). None off the digits."""
    if not hasattr(target, "sample_with_codes"):
        return None
    x, z, _ = target.sample_with_codes(n, generator=g)
    with torch.no_grad():
        c = E(x)
    c, z = c - c.mean(0), z - z.mean(0)
    explained = (z.T @ c) @ torch.linalg.solve(c.T @ c, c.T @ z)  # normal equations: (d_code, d_code) only
    return float(torch.trace(explained) / (z * z).sum())


def image_separability(G, target, n: int, g: torch.Generator, confidence: float) -> dict:
    """Where the gap comes from: held-out accuracy of the logistic probe telling n real images x from n generated
    G(z) by the image alone (no code), trained on as many fresh ones (0.5 when the image marginals agree). A gap near
    1 with this accuracy near 1 is the image marginal's, not the codes'. Clopper-Pearson, two-sided. The probe is
    linear: on a 2-D mixture it is blind to mass between the modes (accuracy near 0.5 says little there)."""
    def both(m: int):
        x, _ = target.sample(m, generator=g)
        xg, _ = G.sample(m, generator=g)
        return torch.cat([x, xg]).numpy(), np.r_[np.ones(m, dtype=np.int64), np.zeros(m, dtype=np.int64)]

    (a, ya), (b, yb) = both(n), both(n)
    return probe_accuracy(a, ya, b, yb, confidence=confidence)["accuracy"].to_dict()


def reconstruction(G, E, target, cfg: dict[str, Any], g: torch.Generator, rng: np.random.Generator) -> dict:
    r"""``‖x - G(E(x))‖`` against the random-pair baseline ``‖x - x'‖`` (ratio of means, paired bootstrap), full
    vectors; on the digits also on the clean positions only (the noise coordinates excluded)."""
    n = cfg["n_recon"]
    x, _ = target.sample(n, generator=g)
    x_other, _ = target.sample(n, generator=g)
    with torch.no_grad():
        xr = G(E(x))
    out = {}
    parts = {"full": slice(None)}
    if hasattr(target, "noise"):
        parts["clean"] = target.noise.clean_positions
    for name, P in parts.items():
        a = torch.linalg.vector_norm((x - xr)[:, P], dim=1).numpy()
        b = torch.linalg.vector_norm((x - x_other)[:, P], dim=1).numpy()
        out[name] = reconstruction_ratio(a, b, confidence=cfg["confidence"], B=cfg["bootstrap"], rng=rng).to_dict()
    return out


def birthday_support(G, target, cfg: dict[str, Any], g: torch.Generator) -> dict:
    """The birthday-test support of G on full output vectors: duplicate threshold from ``reference_n`` held-out draws
    of the target (:func:`~ganlimits.verify.threshold_from_reference`), sizes from a pilot run, the calibrated
    likelihood-ratio interval. When no pilot size up to ``max_size`` collides half the time, the support is reported
    as beyond the budget (about (max_size / 1.18)² or more)."""
    ref, _ = target.sample(cfg["reference_n"], generator=g)
    t = threshold_from_reference(ref)

    def sample(s: int, gen: torch.Generator) -> torch.Tensor:
        return G.sample(s, generator=gen)[0]

    try:
        sizes = pilot_sizes(sample, threshold=t, generator=g, n_sizes=cfg["n_sizes"], repeats=cfg["pilot_repeats"],
                            max_size=cfg["max_size"])
    except ValueError:
        return {"threshold": t, "beyond_budget": True, "max_size": cfg["max_size"],
                "support_at_least": (cfg["max_size"] / 1.18) ** 2}
    res = birthday_test(sample, sizes=sizes, repeats=cfg["repeats"], threshold=t, generator=g,
                        calibration_draws=cfg["calibration_draws"])
    return {"threshold": t, "beyond_budget": False, "support": res.support_estimate.to_dict(),
            "sizes": list(sizes), "nonuniform": res.nonuniform}


def pair_trial(cfg: dict[str, Any], seed: int) -> dict:
    """One (target, seed): train the pair, then every instrument of the claim on it (module docstring)."""
    torch.set_num_threads(1)
    streams = Streams(seed)
    target, chance, _ = build_world(cfg)
    lab = LabConfig(**cfg["lab"])
    G, E, losses, train_s = train_pair(target, steps=cfg["steps"], seed=streams.seed("train"), config=lab)
    gap, detail = verdict_attack(G, E, target, settings=AttackSettings(**cfg["attack"]),
                                 rng=streams.torch("attack"))
    strong, sdetail = verdict_attack(G, E, target, settings=AttackSettings(**cfg["strong"]),
                                     rng=streams.torch("strong"))
    pr = probe(lambda x, y: E(x), target, cfg, streams.torch("probe"), chance, seed=seed, pca=True)
    out = {"target": cfg["target"], "description": target.description, "seed": seed, "steps": cfg["steps"],
           "train_s": train_s, "final_losses": losses, "chance": chance,
           "gap": gap.to_dict(), "gap_K": detail["K"], "gap_p": detail["p"],
           "strong_gap": strong.to_dict(), "strong_K": sdetail["K"], "strong_p": sdetail["p"],
           "probe": {k: {"accuracy": v["accuracy"].to_dict(), "pvalue": v["pvalue"], "detected": v["detected"]}
                     for k, v in pr.items()},
           "noise_read_r2": noise_read(E, target, cfg["n_test"], streams.torch("noise-read")),
           "image_separability": image_separability(G, target, cfg["n_test"], streams.torch("separability"),
                                                    cfg["confidence"]),
           "reconstruction": reconstruction(G, E, target, cfg, streams.torch("recon"), streams.numpy("bootstrap")),
           "birthday": birthday_support(G, target, cfg, streams.torch("birthday"))}
    if cfg["target"] != "digits":
        x, _ = G.sample(cfg["n_eval"], generator=streams.torch("modes"))
        out["mode_metrics"] = mode_metrics(x, target.target).to_dict()
        out["figure_samples"] = x[:500].tolist()
    return out
