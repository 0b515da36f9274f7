"""``ganlimits audit``: the theory's instruments on a user's saved samples, generator and encoder.

Every file and model is loaded and checked (shapes, dimensions that must agree, one call of each model) before
anything is measured or written: a bad one is a usage error (exit 2) whose one line names the flag. Importing this
module loads neither torch nor numpy (``ganlimits --help`` stays cheap); the command imports what it needs.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import sys
from pathlib import Path

from ._cli_bound import UsageError, number

__all__ = ["add_audit", "run_audit"]

TARGETS = ("ring", "grid", "mixture_1200d")
_FLAGS = {"samples": "--samples", "reference": "--reference", "target": "--target", "generator": "--generator",
          "encoder": "--encoder", "code_dim": "--code-dim"}
_SUFFIXES = (".npy", ".npz", ".pt", ".pth")


EXIT_CODES = """exit status:
  0    the audit ran (it measures and reports; it gives no verdict)
  2    usage error (one line on stderr naming the flag, no traceback, nothing computed or written)
  130  interrupted"""


def add_audit(subs) -> None:
    """The ``audit`` subcommand on the ``ganlimits`` subparsers ``subs``."""
    p = subs.add_parser(
        "audit", help="the instruments on your own samples or model",
        description="Audit a GAN's saved samples (and optionally its generator and encoder) with the theory's "
                    "instruments: the birthday-test support with its interval (duplicates calibrated on --reference "
                    "or --target; else exact copies only), VEEGAN's mode metrics against a known --target, the "
                    "neural-net distance to the reference, precision/recall/density/coverage when the [metrics] "
                    "extra is installed, and with --generator and --encoder the BiGAN gap under the arz-thm1 "
                    "verdict class and the label probe of the codes. FILE: a .npy, .npz (one array) or .pt file "
                    "holding an (n, d) array. A model: PATH.py:NAME, NAME a torch module or callable in that file "
                    "(fed z ~ N(0, I) of width --code-dim, or of its first layer's width).",
        epilog=f"{EXIT_CODES}\n\nexamples:\n  ganlimits audit --samples fake.npy --target ring\n"
               "  ganlimits audit --samples fake.npy --reference real.npy --json\n"
               "  ganlimits audit --samples fake.npy --target ring --generator bigan.py:G --encoder bigan.py:E "
               "--out audit-out")
    p.add_argument("--samples", required=True, metavar="FILE", help="the generator's samples, (n, d)")
    p.add_argument("--reference", metavar="FILE", help="real samples, (n_ref, d): calibrates the duplicate "
                                                       "threshold and is the reference of the distances")
    p.add_argument("--target", choices=TARGETS, help="a known target (the lab's constants): mode metrics, and the "
                                                     "reference when --reference is not given")
    p.add_argument("--generator", metavar="PATH.py:NAME", help="the generator: support on fresh draws; with "
                                                               "--encoder the BiGAN gap")
    p.add_argument("--encoder", metavar="PATH.py:NAME", help="the encoder: the BiGAN gap and the label probe")
    p.add_argument("--code-dim", type=number("--code-dim", low=1, high=1_000_000, integer=True), default=None,
                   metavar="D", help="the generator's input width when its first layer does not say")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout and nothing else")
    p.add_argument("--out", metavar="DIR", type=_out, default=None,
                   help="also write audit.json, AUDIT.md and figures into DIR")


def _out(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("--out must name a folder, got an empty path")
    return Path(text)


def load_array(text: str, flag: str):
    """The (n, d) array saved in ``text`` (.npy, .npz with one array, .pt); UsageError naming ``flag``."""
    import numpy as np

    path = Path(text)
    if path.suffix.lower() not in _SUFFIXES:
        raise UsageError(f"{flag}: {text!r} must be a .npy, .npz or .pt file")
    if not path.is_file():
        raise UsageError(f"{flag}: {text!r} is not a file")
    try:
        if path.suffix.lower() == ".npy":
            arr = np.load(path, allow_pickle=False)
        elif path.suffix.lower() == ".npz":
            with np.load(path, allow_pickle=False) as z:
                if len(z.files) != 1:
                    raise UsageError(f"{flag}: {text!r} holds {len(z.files)} arrays "
                                     f"({', '.join(z.files) or 'none'}); save one")
                arr = z[z.files[0]]
        else:
            import torch

            arr = torch.load(path, map_location="cpu", weights_only=True)
            if isinstance(arr, dict) and len(arr) == 1:
                arr = next(iter(arr.values()))
            if not isinstance(arr, (torch.Tensor, np.ndarray)):
                raise UsageError(f"{flag}: {text!r} holds a {type(arr).__name__}, not one tensor")
    except UsageError:
        raise
    except Exception as exc:  # numpy, zipfile and torch raise many kinds for a damaged or foreign file
        detail = (str(exc).splitlines() or ["no detail"])[0]
        raise UsageError(f"{flag}: cannot read {text!r} ({type(exc).__name__}: {detail})") from None
    return arr


def load_model(text: str, flag: str, modules: dict):
    """``NAME`` from the Python file ``PATH.py`` of ``text`` (each file run once, its folder importable);
    UsageError naming ``flag``."""
    path_text, sep, name = text.rpartition(":")
    if not sep or not path_text.endswith(".py") or not name.isidentifier():
        raise UsageError(f"{flag} must be PATH.py:NAME (a file and a name it defines), got {text!r}")
    path = Path(path_text).resolve()
    if not path.is_file():
        raise UsageError(f"{flag}: {path_text!r} is not a file")
    if path not in modules:
        spec = importlib.util.spec_from_file_location(f"_ganlimits_audit_{len(modules)}", path)
        module = importlib.util.module_from_spec(spec)
        sys.path.insert(0, str(path.parent))
        try:
            with contextlib.redirect_stdout(sys.stderr):  # a user's prints never reach --json's stdout
                spec.loader.exec_module(module)
        except (Exception, SystemExit) as exc:
            raise UsageError(f"{flag}: running {path_text!r} failed ({type(exc).__name__}: {exc})") from None
        finally:
            sys.path.remove(str(path.parent))
        modules[path] = module
    obj = getattr(modules[path], name, None)
    if obj is None:
        raise UsageError(f"{flag}: {path_text!r} defines no {name!r}")
    if not callable(obj):
        raise UsageError(f"{flag}: {name!r} in {path_text!r} is a {type(obj).__name__}, not a torch module or a "
                         "callable")
    return obj


def run_audit(a: argparse.Namespace) -> int:
    """Load and check every input, then audit; print the report (or one JSON document) and write ``--out``."""
    from ._audit import AuditInputError, audit, check_audit_inputs
    from ._results import check_out_dir

    samples = load_array(a.samples, "--samples")
    reference = None if a.reference is None else load_array(a.reference, "--reference")
    modules: dict = {}
    generator = None if a.generator is None else load_model(a.generator, "--generator", modules)
    encoder = None if a.encoder is None else load_model(a.encoder, "--encoder", modules)
    kwargs = dict(reference=reference, target=a.target, generator=generator, encoder=encoder, code_dim=a.code_dim)
    try:
        check_audit_inputs(samples, **kwargs)
    except AuditInputError as exc:
        raise UsageError(f"{_FLAGS.get(exc.argument, exc.argument)}: {exc}") from None
    if a.out is not None:
        try:
            check_out_dir(a.out, "--out")
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    with contextlib.redirect_stdout(sys.stderr) if a.json else contextlib.nullcontext():
        result = audit(samples, rng=0, progress=sys.stderr.isatty(), **kwargs)
        written = result.save(a.out) if a.out is not None else []
    if a.json:
        json.dump({**result.to_dict(), "written": [str(a.out / f) for f in written]}, sys.stdout, indent=2,
                  allow_nan=False)
        sys.stdout.write("\n")
    else:
        print("\n".join(result.lines()))
        if written:
            print(f"written: {', '.join(str(a.out / f) for f in written)}")
    return 0
