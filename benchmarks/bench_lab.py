"""Training speed of the lab (``train_gan``) against a minimal plain-PyTorch loop training the same networks with the
same optimiser, per model (issue 12, "Speed": ratio >= 0.9, i.e. the lab adds at most 10% overhead).

The plain loops are written here from scratch: ``nn.Sequential`` networks holding the lab's initial weights, the same
losses (the same one-pass discriminator evaluations), ``torch.optim.Adam(fused=True)`` with the same linear learning
rate decay, and real minibatches drawn from the target inside the loop, 25 steps' worth at a time (any training
loop must sample its data; on the 1200-D mixture this is a large share of a step, printed as "data share": the time
to draw the run's data alone over the plain loop's time).
The lab is timed twice: its training loop alone (``train_s``: steps, schedule, data drawing, progress bar; evaluation
snapshots excluded) and the whole ``train_gan`` call (building the networks and scoring step 0 and the last step
included). Each timing is the best of ``--repeats`` runs, lab and plain interleaved so that load drifts hit both.
Both paths are checked to reach the same generator (same seed, same steps): their outputs agree to float32 rounding.

Seed batching (stacked weights over seeds) is not built: the sweep runs one (model, target, seed) per trial so that
an interrupted benchmark resumes trial by trial; the line printed below says so.

Run: ``.venv/bin/python benchmarks/bench_lab.py [--steps S] [--repeats R] [--target ring]``. Prints rates and ratios
only; no assertions. Timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import copy
import time

import torch
from torch.func import functional_call
from torch.nn import functional as F

from ganlimits.verify import Streams
from ganlimits.verify.lab import MODELS, LabConfig, build_method, lab_target, train_gan


def _adam(params, cfg):
    return torch.optim.Adam(params, lr=cfg.lr_g, betas=cfg.betas, fused=True)


def _plain(model: str, target, cfg: LabConfig, steps: int, seed: int):
    """Networks with the lab's initial weights, data drawn up front; returns a closure running the plain loop."""
    streams = Streams(seed)
    lab = build_method(model, data_dim=target.dim, config=cfg, generator=streams.torch("init"))
    nets = {k: copy.deepcopy(v) for k, v in lab.networks().items()}
    G, D = nets["generator"], nets["discriminator"]
    E = nets.get("encoder", nets.get("reconstructor"))
    r = lab.reals_per_step
    chunk = 25
    data_gen = streams.torch("data")
    noise = streams.torch("noise")
    b, dz = cfg.batch_size, cfg.noise_dim
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=cfg.betas, fused=True)
    opt_g = _adam([*G.parameters(), *(E.parameters() if E is not None else [])], cfg)
    base = [(opt_d, cfg.lr_d), (opt_g, cfg.lr_g)]

    def both(inp_a, inp_b):
        out = D(torch.cat([inp_a, inp_b]))
        return out[:inp_a.shape[0]], out[inp_a.shape[0]:]

    def run():
        for i in range(steps):
            if i % chunk == 0:  # real data drawn from the target in chunks, as any training loop must
                data = target.sample(chunk * r, generator=data_gen)[0].float()
            for opt, lr in base:
                opt.param_groups[0]["lr"] = lr * (1 - i / steps)
            x = data[(i % chunk) * r:(i % chunk + 1) * r]
            if model in ("gan", "pacgan2", "pacgan4", "unrolled"):
                fake = G(torch.randn(r, dz, generator=noise))
                xr, xf = x.reshape(b, -1), fake.reshape(b, -1)
                lr_, lf = both(xr, xf.detach())
                loss_d = F.softplus(-lr_).mean() + F.softplus(lf).mean()
                opt_d.zero_grad()
                loss_d.backward()
                opt_d.step()
                if model == "unrolled":
                    loss_g = F.softplus(-functional_call(D, _unrolled(D, opt_d, x, fake, cfg), (fake,))).mean()
                else:
                    loss_g = F.softplus(-D(xf)).mean()
            elif model == "ali":
                z = torch.randn(b, dz, generator=noise)
                rp, fp = torch.cat([x, E(x)], 1), torch.cat([G(z), z], 1)
                lr_, lf = both(rp.detach(), fp.detach())
                loss_d = F.softplus(-lr_).mean() + F.softplus(lf).mean()
                opt_d.zero_grad()
                loss_d.backward()
                opt_d.step()
                lr_, lf = both(rp, fp)
                loss_g = F.softplus(lr_).mean() + F.softplus(-lf).mean()
            elif model == "veegan":
                z = torch.randn(b, dz, generator=noise)
                xg = G(z)
                gp = torch.cat([z, xg], 1)
                with torch.no_grad():
                    rp = torch.cat([E(x), x], 1)
                lg, lr_ = both(gp.detach(), rp)
                loss_d = F.softplus(-lg).mean() + F.softplus(lr_).mean()
                opt_d.zero_grad()
                loss_d.backward()
                opt_d.step()
                loss_g = D(gp).mean() + cfg.recon_weight * (z - E(xg)).pow(2).sum(1).mean()
            else:  # wgan-gp
                for k in range(cfg.n_critic):
                    real = x[k * b:(k + 1) * b]
                    with torch.no_grad():
                        fake = G(torch.randn(b, dz, generator=noise))
                    eps = torch.rand(b, 1, generator=noise)
                    xh = (eps * real + (1 - eps) * fake).requires_grad_(True)
                    f = D(torch.cat([real, fake, xh]))
                    grad = torch.autograd.grad(f[2 * b:].sum(), xh, create_graph=True)[0]
                    loss_d = f[b:2 * b].mean() - f[:b].mean() + cfg.gp_weight * (grad.norm(dim=1) - 1).pow(2).mean()
                    opt_d.zero_grad()
                    loss_d.backward()
                    opt_d.step()
                loss_g = -D(G(torch.randn(b, dz, generator=noise))).mean()
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
        return G

    def draw_only():
        gen = Streams(seed).torch("data")
        for _ in range((steps + chunk - 1) // chunk):
            target.sample(chunk * r, generator=gen)[0].float()

    return run, draw_only


def _unrolled(D, opt_d, x, fake, cfg):
    """K differentiable Adam steps of D from its optimiser's state (plain form of the lab's inner loop)."""
    lr, (b1, b2) = opt_d.param_groups[0]["lr"], cfg.betas
    names = [n for n, _ in D.named_parameters()]
    params = {n: p.detach().requires_grad_(True) for n, p in D.named_parameters()}
    state = [opt_d.state[p] for p in D.parameters()]
    m = {n: s["exp_avg"] for n, s in zip(names, state, strict=True)}
    v = {n: s["exp_avg_sq"] for n, s in zip(names, state, strict=True)}
    t = {n: float(s["step"]) for n, s in zip(names, state, strict=True)}
    for _ in range(cfg.unroll_steps):
        out = functional_call(D, params, (torch.cat([x, fake]),))
        loss = F.softplus(-out[:x.shape[0]]).mean() + F.softplus(out[x.shape[0]:]).mean()
        grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
        new = {}
        for (n, p), g in zip(params.items(), grads, strict=True):
            t[n] += 1
            m[n] = b1 * m[n] + (1 - b1) * g
            v[n] = b2 * v[n] + (1 - b2) * g * g
            denom = (v[n] / (1 - b2 ** t[n])).clamp_min(1e-30).sqrt() + 1e-8
            new[n] = p - lr * (m[n] / (1 - b1 ** t[n])) / denom
        params = new
    return params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--target", default="ring", choices=("ring", "grid", "mixture_1200d"))
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    target = lab_target(args.target)
    cfg = LabConfig()
    print(f"lab vs plain PyTorch, {args.target}, {args.steps} steps, {cfg.describe()}, 1 torch thread, best of "
          f"{args.repeats}")
    print(f"{'model':14s} {'lab loop/s':>10s} {'lab call/s':>10s} {'plain/s':>9s} {'loop ratio':>10s} "
          f"{'call ratio':>10s} {'data share':>10s} {'max |dG|':>9s}")
    for model in args.models.split(","):
        best = {"loop": float("inf"), "call": float("inf"), "plain": float("inf"), "data": float("inf")}
        for _ in range(args.repeats):
            run, draw_only = _plain(model, target, cfg, args.steps, seed=0)
            start = time.perf_counter()
            G = run()
            best["plain"] = min(best["plain"], time.perf_counter() - start)
            start = time.perf_counter()
            draw_only()
            best["data"] = min(best["data"], time.perf_counter() - start)
            start = time.perf_counter()
            res = train_gan(model, target, steps=args.steps, seed=0, config=cfg, eval_every=args.steps)
            best["call"] = min(best["call"], time.perf_counter() - start)
            best["loop"] = min(best["loop"], res.train_s)
        z = torch.randn(500, cfg.noise_dim, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            diff = float((res.generator(z) - G(z).double()).abs().max())
        rate = {k: args.steps / v for k, v in best.items()}
        print(f"{model:14s} {rate['loop']:10.1f} {rate['call']:10.1f} {rate['plain']:9.1f} "
              f"{rate['loop'] / rate['plain']:10.2f} {rate['call'] / rate['plain']:10.2f} "
              f"{best['data'] / best['plain']:10.0%} {diff:9.2g}")
    print("seed batching: not built (one trial per (model, target, seed) keeps sweeps resumable); no speed-up to "
          "report")


if __name__ == "__main__":
    main()
