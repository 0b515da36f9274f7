r"""Stacks of runs: S training runs of one method whose networks have one shape, held as one network with batched
weights, so that one forward pass, one backward pass and one optimiser step serve every run
(``docs/papers/veegan.md``; the trainer is :func:`~ganlimits.verify.lab.stacked.train_stacked`).

The mechanism is small and shared by every method of the lab, whose ``step`` is written once for both layouts:

- a tensor of one run has shape (n, f) (rows, features); a tensor of a stack has shape (S, n, f), run s in
  ``[s]``. The methods address rows as dimension -2 and features as dimension -1, so the same line serves both;
- :class:`StackedMLP` holds S MLPs of one shape: layer weights (S, out, in), biases (S, 1, out), evaluated with
  ``baddbmm`` (one batched product per layer; ``docs/design.md``, "Performance design", measured
  batched products far above ``vmap`` on this kind of machine);
- :func:`run_mean` is the per-run reduction: the mean over one run's rows, a scalar for one run and an (S,) vector
  for a stack. The methods backpropagate the *sum* of that vector: run s's parameters then receive the gradient of
  run s's own loss, unscaled (a mean over the stack would divide every run's gradient by S), and since Adam acts
  elementwise, one Adam step on the stacked tensors is S independent Adam steps;
- :func:`draw` and :func:`draw_reals` take a sequence of S ``torch.Generator`` (one per run, from that run's own
  named streams) and stack S draws, each exactly the draw a run alone would make.

Shape letters: ``S`` runs in the stack, ``n`` rows, ``d`` data dimension, ``f`` features.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import torch
from torch import nn

__all__ = ["StackedMLP"]  # the helpers below are the methods' private hooks


def stack_size(generator) -> int | None:
    """``None`` for one ``torch.Generator`` (one run); ``S`` for a sequence of S of them (a stack).

    >>> stack_size(torch.Generator()), stack_size([torch.Generator(), torch.Generator()])
    (None, 2)
    """
    if isinstance(generator, torch.Generator):
        return None
    if isinstance(generator, Sequence) and not isinstance(generator, str) and len(generator) >= 1 and all(
            isinstance(g, torch.Generator) for g in generator):
        return len(generator)
    raise ValueError(f"generator must be a torch.Generator or a non-empty sequence of them (one per run), got "
                     f"{type(generator).__name__}")


def draw(fn: Callable[..., torch.Tensor], shape: tuple[int, ...], generator) -> torch.Tensor:
    """``fn(*shape, generator=generator)`` (``torch.randn``, ``torch.rand``) for one run; for a sequence of S
    generators the (S, \\*shape) stack of the S draws, draw s from generator s."""
    if isinstance(generator, torch.Generator):
        return fn(*shape, generator=generator)
    return torch.stack([fn(*shape, generator=g) for g in generator])


def draw_reals(target, n: int, generator, *, dtype: torch.dtype) -> torch.Tensor:
    """``n`` real samples ``target.sample(n, generator=)[0]`` (n, d) as ``dtype`` for one run; for S generators the
    (S, n, d) stack, run s's from generator s (each converted before stacking: no (S, n, d) float64 copy)."""
    if isinstance(generator, torch.Generator):
        return target.sample(n, generator=generator)[0].to(dtype)
    return torch.stack([target.sample(n, generator=g)[0].to(dtype) for g in generator])


def run_mean(t: torch.Tensor, stack: int | None) -> torch.Tensor:
    """The mean of each run's entries: ``t.mean()`` for one run (``stack`` None), else the (S,) vector of the means
    of ``t[s]`` (``t`` of shape (S, ...)).

    >>> run_mean(torch.tensor([[1.0, 3.0], [2.0, 6.0]]), 2).tolist(), float(run_mean(torch.ones(3), None))
    ([2.0, 4.0], 1.0)
    """
    return t.mean() if stack is None else t.reshape(stack, -1).mean(1)


class StackedMLP(nn.Module):
    r"""S MLPs of one shape (the lab's :func:`~ganlimits.verify.lab.mlp`) as one module.

    Built from S ``nn.Sequential`` of ``nn.Linear`` layers and elementwise activations, all of one shape: layer l
    of run s keeps its weight as ``weight_l[s]`` (out, in) and its bias as ``bias_l[s, 0]`` (out,) — copies of the
    given networks' values. ``forward(x)``: x (S, n, in) -> (S, n, out), each layer
    ``baddbmm(bias_l, h, weight_l^T)`` followed by the activation, i.e. run s's rows pass through run s's network
    only. :meth:`unstack` returns run s's network as the ``nn.Sequential`` it was built from (a copy).

    >>> from ganlimits.verify.lab import LabConfig, mlp
    >>> nets = [mlp(2, 1, LabConfig(width=4, depth=1), generator=torch.Generator().manual_seed(s)) for s in (0, 1)]
    >>> stack = StackedMLP(nets)
    >>> x = torch.randn(2, 5, 2, generator=torch.Generator().manual_seed(2))
    >>> stack(x).shape, torch.allclose(stack(x)[1], nets[1](x[1]), rtol=1e-6, atol=1e-7)
    (torch.Size([2, 5, 1]), True)
    """

    def __init__(self, nets: Sequence[nn.Sequential]) -> None:
        super().__init__()
        if len(nets) < 1 or not all(isinstance(n, nn.Sequential) for n in nets):
            raise ValueError("nets must be a non-empty sequence of nn.Sequential")
        shapes = [[tuple(p.shape) for p in n.parameters()] for n in nets]
        if any(s != shapes[0] for s in shapes):
            raise ValueError(f"nets must have one shape; got parameter shapes {shapes[0]} and others")
        self.size = len(nets)
        # the template is not a registered submodule: its parameters are not the stack's
        object.__setattr__(self, "_template", copy.deepcopy(nets[0]).requires_grad_(False))
        self._layers: list[tuple[str, str] | nn.Module] = []
        for i, layer in enumerate(nets[0]):
            if isinstance(layer, nn.Linear):
                w = torch.stack([n[i].weight.detach() for n in nets]).clone()
                b = torch.stack([n[i].bias.detach() for n in nets])[:, None, :].clone()
                self.register_parameter(f"weight{i}", nn.Parameter(w))
                self.register_parameter(f"bias{i}", nn.Parameter(b))
                self._layers.append((f"weight{i}", f"bias{i}"))
            else:
                self._layers.append(layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for layer in self._layers:
            if isinstance(layer, tuple):
                h = torch.baddbmm(getattr(self, layer[1]), h, getattr(self, layer[0]).transpose(1, 2))
            else:
                h = layer(h)
        return h

    def unstack(self, s: int) -> nn.Sequential:
        """Run ``s``'s network as a plain ``nn.Sequential`` (a copy on this module's device, gradients on)."""
        if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s < self.size:
            raise ValueError(f"s must be an integer in [0, {self.size}), got {s!r}")
        net = copy.deepcopy(self._template).to(next(self.parameters()).device)
        with torch.no_grad():
            for i, layer in enumerate(self._layers):
                if isinstance(layer, tuple):
                    net[i].weight.copy_(getattr(self, layer[0])[s])
                    net[i].bias.copy_(getattr(self, layer[1])[s, 0])
        return net.requires_grad_(True)

    def extra_repr(self) -> str:
        return f"S={self.size}, one MLP: {self._template}"


def unstack_value(value, s: int):
    """Run ``s``'s part of an attribute of a stacked method: a :class:`StackedMLP` becomes run s's network, a trained
    tensor (a leaf that requires grad, stacked along dimension 0) its row s (a copy), an optimiser None (a run taken
    out of a stack is not trained further), a list or tuple is mapped; anything else is shared as it is."""
    if isinstance(value, StackedMLP):
        return value.unstack(s)
    if isinstance(value, torch.Tensor) and value.is_leaf and value.requires_grad:
        return value.detach()[s].clone().requires_grad_(True)
    if isinstance(value, torch.optim.Optimizer):
        return None
    if isinstance(value, (list, tuple)):
        return type(value)(unstack_value(v, s) for v in value)
    return value
