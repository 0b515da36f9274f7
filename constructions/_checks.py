"""Input checks that need torch, shared by the constructions (the torch-free validators are in
:mod:`ganlimits.theory._validate`). Each raises ``ValueError`` naming the argument the caller passed."""

from __future__ import annotations

import numpy as np
import torch

__all__: list[str] = []  # private helpers: not re-exported by the package


def check_generator(generator, name: str = "generator") -> torch.Generator:
    """``generator`` itself when it is a ``torch.Generator`` (the only source of randomness in a construction)."""
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"{name} must be a torch.Generator, got {type(generator).__name__}")
    return generator


def as_float64(name: str, value) -> torch.Tensor:
    """A float64 CPU copy of an array of real numbers (a tensor, an array or nested lists); complex and boolean
    inputs are rejected by name."""
    try:
        t = value if isinstance(value, torch.Tensor) else torch.from_numpy(np.array(value, dtype=np.float64))
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of real numbers") from None
    if t.is_complex() or t.dtype == torch.bool:
        raise ValueError(f"{name} must be an array of real numbers, got dtype {t.dtype}")
    return t.detach().to(dtype=torch.float64, device="cpu").clone()
