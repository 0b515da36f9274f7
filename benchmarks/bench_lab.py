"""Training speed of the lab, in two parts (``--part plain``, ``--part stacked``, default both).

**Plain** (issue 12, "Speed": ratio >= 0.9, i.e. the lab adds at most 10% overhead): ``train_gan`` against a minimal
plain-PyTorch loop training the same networks with the same optimiser, per model. The plain loops are written here
from scratch: ``nn.Sequential`` networks holding the lab's initial weights, the same losses (the same one-pass
discriminator evaluations, the same draws in the same order), ``torch.optim.Adam(fused=True)`` with the same learning
rate schedule, and real minibatches drawn from the target inside the loop, 25 steps' worth at a time (any training
loop must sample its data; on the 1200-D mixture this is a large share of a step, printed as "data share": the time
to draw the run's data alone over the plain loop's time). The lab is timed twice: its training loop alone
(``train_s``: steps, schedule, data drawing, progress bar; evaluation snapshots excluded) and the whole
``train_gan`` call (building the networks and scoring step 0 and the last step included). Each timing is the best of
``--repeats`` runs, lab and plain interleaved so that load drifts hit both. Both paths are checked to reach the same
generator (same seed, same steps): their outputs agree to float32 rounding.

**Stacked** (issue 20, item 8: target >= 2x on 2 cores): model-steps per second of ``train_stacked`` (S seeds as one
network with batched weights) over the per-run loop (``train_gan`` once per seed), at S = ``--runs`` (10 and 40),
per model, one torch thread, from one run: for each S the loop trains seeds 0..S-1 one by one, then the stack trains
the same seeds. Rates are model-steps (S x ``--stack-steps``) per second of training loop (``train_s``, snapshots
excluded), wall and CPU (the process's CPU time of the whole calls, snapshots of step 0 and the last included, as
the load of a shared machine inflates wall time); "max |dG|" is the largest difference between a stacked run's and
its one-by-one run's generator outputs on 500 fixed noise vectors: float32 rounding, which training may amplify
(a unit within rounding of its threshold, then Adam's normalised step; ``verify/lab/_stacked.py``): the same
computation in float64 agrees to 1e-13 (``tests/verify/lab/test_stacked.py``).

Run: ``.venv/bin/python benchmarks/bench_lab.py [--part stacked] [--runs 10,40] [--stack-steps 50] [--steps S]
[--repeats R] [--target grid] [--models gan,ali] [--width 128] [--batch-size 128]``. Prints rates and ratios only;
no assertions. Timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import copy
import time

import torch
from torch.func import functional_call
from torch.nn import functional as F

from ganlimits.verify.lab import MODELS, LabConfig, build_method, lab_target, train_gan
from ganlimits.verify.lab.stacked import train_stacked
from ganlimits.verify.runs import Streams


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
            if cfg.lr_schedule == "linear":
                for opt, lr in base:
                    opt.param_groups[0]["lr"] = lr * (1 - i / steps)
            x = data[(i % chunk) * r:(i % chunk + 1) * r]
            if model == "unrolled":  # simultaneous: G through K unrolled D steps, D's own step from the same D
                fake = G(torch.randn(r, dz, generator=noise))
                loss_g = -F.softplus(functional_call(D, _unrolled(D, opt_d, x, fake, cfg), (fake,))).mean()
                opt_g.zero_grad()
                loss_g.backward()
                lr_, lf = both(x, fake.detach())
                loss_d = F.softplus(-lr_).mean() + F.softplus(lf).mean()
                opt_d.zero_grad()
                loss_d.backward()
                opt_d.step()
                opt_g.step()
                continue
            if model in ("gan", "pacgan2", "pacgan4"):
                fake = G(torch.randn(r, dz, generator=noise))
                xr, xf = x.reshape(b, -1), fake.reshape(b, -1)
                lr_, lf = both(xr, xf.detach())
                loss_d = F.softplus(-lr_).mean() + F.softplus(lf).mean()
                opt_d.zero_grad()
                loss_d.backward()
                opt_d.step()
                loss_g = F.softplus(-D(xf)).mean()
            elif model in ("ali", "bigan"):
                z = torch.randn(b, dz, generator=noise)
                code = E(x)
                if model == "ali":  # reparametrised Gaussian encoder: mean and softplus scale
                    code = code[:, :dz] + F.softplus(code[:, dz:]) * torch.randn(b, dz, generator=noise)
                rp, fp = torch.cat([x, code], 1), torch.cat([G(z), z], 1)
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
                with torch.no_grad():  # z_g ~ N(F(x), sigma^2 I)
                    rp = torch.cat([E(x) + cfg.recon_std * torch.randn(b, dz, generator=noise), x], 1)
                lg, lr_ = both(gp.detach(), rp)
                loss_d = F.softplus(-lg).mean() + F.softplus(lr_).mean()
                opt_d.zero_grad()
                loss_d.backward()
                opt_d.step()
                recon = (z - E(xg)).pow(2).sum(1).mean() / (2 * cfg.recon_std ** 2)
                loss_g = D(gp).mean() + cfg.recon_weight * recon
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
    params = {n: p.detach().clone().requires_grad_(True) for n, p in D.named_parameters()}
    state = [opt_d.state.get(p, {}) for p in D.parameters()]  # empty before D's first step: Adam's initial state
    zeros = [torch.zeros_like(p) for p in D.parameters()]
    m = {n: s["exp_avg"].clone() if s else z for n, s, z in zip(names, state, zeros, strict=True)}
    v = {n: s["exp_avg_sq"].clone() if s else z for n, s, z in zip(names, state, zeros, strict=True)}
    t = {n: float(s["step"]) if s else 0.0 for n, s in zip(names, state, strict=True)}
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


def plain_part(args, target, cfg: LabConfig) -> None:
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


def stacked_part(args, target, cfg: LabConfig) -> None:
    steps, runs = args.stack_steps, [int(r) for r in args.runs.split(",")]
    kw = {"steps": steps, "config": cfg, "eval_every": steps, "n_eval": 100}
    print(f"stacked vs per-run loop, {args.target}, {steps} steps per run, {cfg.describe()}, 1 torch thread, "
          f"one run")
    print(f"{'model':14s} {'runs':>5s} {'loop steps/s':>12s} {'stack steps/s':>13s} {'ratio wall':>10s} "
          f"{'ratio CPU':>9s} {'max |dG|':>9s}")
    z = torch.randn(500, cfg.noise_dim, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    for model in args.models.split(","):
        train_gan(model, target, seed=0, **kw | {"steps": 2, "eval_every": 2})  # first calls pay one-time costs
        train_stacked(model, target, seeds=[0, 1], **kw | {"steps": 2, "eval_every": 2})
        for S in runs:
            cpu = time.process_time()
            loop = [train_gan(model, target, seed=s, **kw) for s in range(S)]
            loop_cpu = time.process_time() - cpu
            cpu = time.process_time()
            stack = train_stacked(model, target, seeds=range(S), **kw)
            stack_cpu = time.process_time() - cpu
            loop_s = sum(r.train_s for r in loop)
            stack_s = stack[0].stack_train_s
            diff = max(float((a.generator(z) - b.generator(z)).abs().max()) for a, b in zip(stack, loop, strict=True))
            print(f"{model:14s} {S:5d} {S * steps / loop_s:12.1f} {S * steps / stack_s:13.1f} "
                  f"{loop_s / stack_s:10.2f} {loop_cpu / stack_cpu:9.2f} {diff:9.2g}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", default="all", choices=("plain", "stacked", "all"))
    parser.add_argument("--steps", type=int, default=200, help="steps of the plain comparison")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the plain comparison (best of)")
    parser.add_argument("--runs", default="10,40", help="stack sizes of the stacked comparison")
    parser.add_argument("--stack-steps", type=int, default=50, help="steps per run of the stacked comparison")
    parser.add_argument("--target", default="grid", choices=("ring", "grid", "mixture_1200d"))
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--width", type=int, default=LabConfig.width, help="hidden width of every network")
    parser.add_argument("--batch-size", type=int, default=LabConfig.batch_size)
    args = parser.parse_args()
    torch.set_num_threads(1)
    target = lab_target(args.target)
    cfg = LabConfig(width=args.width, batch_size=args.batch_size)
    if args.part in ("plain", "all"):
        plain_part(args, target, cfg)
    if args.part in ("stacked", "all"):
        stacked_part(args, target, cfg)


if __name__ == "__main__":
    main()
