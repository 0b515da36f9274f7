"""The one network family of the training lab: seeded MLPs, the shared training setup, and the trained networks
handed back as plain callables (VEEGAN and the mode-collapse benchmarks: ``docs/papers/veegan.md``).

Every method of the lab (GAN, ALI/BiGAN, Unrolled GAN, VEEGAN, PacGAN, WGAN-GP) builds its generator, its
discriminator and, where it has one, its encoder (reconstructor) from :func:`mlp` with the same
:class:`LabConfig`, so that a table compares training methods, not architectures.

Shape letters: ``n`` samples, ``d`` data dimension, ``d_code`` noise (code) dimension, ``b`` batch size.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from ganlimits.theory import check_choice, check_number

__all__ = ["LR_SCHEDULES", "LabConfig", "mlp", "LabGenerator", "LabEncoder"]

LR_SCHEDULES = ("linear", "constant")
_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "leaky_relu": nn.LeakyReLU}


@dataclass(frozen=True)
class LabConfig:
    """The training setup shared by every method of the lab (stated in every result through :meth:`to_dict`).

    Networks: ``depth`` hidden layers of ``width`` units with ``activation`` for the generator
    ``G: R^{d_code} -> R^d``, the discriminator (or critic) and the encoder / reconstructor; noise
    ``z ~ N(0, I_{d_code})`` with ``d_code = noise_dim``. Optimiser: Adam for every network, learning rate
    ``lr_g`` for the generator (and the encoder / reconstructor), ``lr_d`` for the discriminator, betas
    ``(beta1, beta2)``, and ``lr_schedule``: ``"constant"`` (the default, and the papers' schedule: VEEGAN's,
    Unrolled GAN's and PacGAN's code train at a fixed rate) keeps it, ``"linear"`` decays every learning rate
    linearly from its value at the first step to 0 after the last (step k of T uses ``lr * (1 - k / T)``). One
    training *step* is one generator update, after the method's discriminator update(s), on minibatches of
    ``batch_size`` samples (PacGAN: ``batch_size`` packs).

    Method-specific: ``unroll_steps`` differentiable inner Adam steps of D (Unrolled GAN, K = 5 as in Metz et
    al. and VEEGAN's Table 1), ``n_critic`` critic updates per generator update and ``gp_weight`` the
    gradient-penalty weight (WGAN-GP, Gulrajani et al.'s defaults 5 and 10), ``recon_weight`` the weight of
    VEEGAN's autoencoder loss on z (1 in the VEEGAN paper's objective) and ``recon_std`` the standard deviation
    sigma of VEEGAN's reconstructor p_theta(z | x) = N(F_theta(x), sigma^2 I) (1, as in VEEGAN's released
    notebook).

    Every field is checked on construction; a bad value is a ``ValueError`` naming the field.

    >>> LabConfig().describe()
    'MLPs 2x128 relu, noise dim 16, batch 128, Adam lr_g 0.001 lr_d 0.001 betas (0.5, 0.999) (constant schedule)'
    """

    width: int = 128
    depth: int = 2
    noise_dim: int = 16
    activation: str = "relu"
    batch_size: int = 128
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    lr_schedule: str = "constant"
    unroll_steps: int = 5
    n_critic: int = 5
    gp_weight: float = 10.0
    recon_weight: float = 1.0
    recon_std: float = 1.0

    def __post_init__(self) -> None:
        for name in ("width", "depth", "noise_dim", "batch_size", "unroll_steps", "n_critic"):
            object.__setattr__(self, name, check_number(name, getattr(self, name), low=1, integer=True))
        # A learning rate of 0 is allowed: it freezes a player (the lab's tests use it as a broken trainer).
        for name in ("lr_g", "lr_d", "gp_weight", "recon_weight"):
            object.__setattr__(self, name, check_number(name, getattr(self, name), low=0))
        object.__setattr__(self, "recon_std", check_number("recon_std", self.recon_std, low=0, low_open=True))
        for name in ("beta1", "beta2"):
            object.__setattr__(self, name, check_number(name, getattr(self, name), low=0, high=1,
                                                        high_open=True))
        check_choice("activation", self.activation, tuple(_ACTIVATIONS))
        check_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)

    @property
    def betas(self) -> tuple[float, float]:
        return (self.beta1, self.beta2)

    def describe(self) -> str:
        """One line stating the architecture and the optimiser."""
        return (f"MLPs {self.depth}x{self.width} {self.activation}, noise dim {self.noise_dim}, batch "
                f"{self.batch_size}, Adam lr_g {self.lr_g:g} lr_d {self.lr_d:g} betas {self.betas} "
                f"({self.lr_schedule} schedule)")

    def to_dict(self) -> dict:
        return asdict(self)


def mlp(in_dim: int, out_dim: int, config: LabConfig, *, generator: torch.Generator,
        device: torch.device | str = "cpu") -> nn.Sequential:
    r"""An MLP ``in_dim -> [width] * depth -> out_dim`` with ``config.activation`` between layers and a linear
    output, initialised from ``generator`` only (no global random state).

    Initialisation: PyTorch's default for ``nn.Linear`` written out so that it draws from ``generator``:
    weights and biases ~ Uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)), layer by layer, weight before bias.

    >>> net = mlp(2, 1, LabConfig(width=8, depth=1), generator=torch.Generator().manual_seed(0))
    >>> [tuple(p.shape) for p in net.parameters()]
    [(8, 2), (8,), (1, 8), (1,)]
    """
    act = _ACTIVATIONS[config.activation]
    sizes = [in_dim] + [config.width] * config.depth + [out_dim]
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
    net = nn.Sequential(*layers)
    with torch.no_grad():
        for layer in net:
            if isinstance(layer, nn.Linear):
                bound = 1.0 / math.sqrt(layer.in_features)
                layer.weight.uniform_(-bound, bound, generator=generator)
                layer.bias.uniform_(-bound, bound, generator=generator)
    return net.to(device)


class LabGenerator:
    r"""A trained generator as a plain callable ``z -> x`` that the toolkit's instruments can attack.

    ``G(z)``: ``z`` (n, d_code), any float dtype, on any device -> x (n, d) float64 on the CPU (the network runs
    in its own dtype, float32, on its device, without gradients). ``sample(n, generator=)`` draws
    ``z ~ N(0, I)`` in float64 from the given ``torch.Generator`` and returns ``(x, None)``: the sampling interface
    of the project's targets, so a trained generator can stand wherever a target can (``birthday_test``,
    ``bigan_gap``, ``mode_metrics``).
    The network is a private copy: training it further does not change this callable.
    """

    def __init__(self, net: nn.Module, *, noise_dim: int, name: str = "generator") -> None:
        import copy

        self._net = copy.deepcopy(net).eval()
        for p in self._net.parameters():
            p.requires_grad_(False)
        self._device = next(self._net.parameters()).device
        self._dtype = next(self._net.parameters()).dtype  # float32 unless built under another default dtype
        self.noise_dim = int(noise_dim)
        self.dim = int([m for m in self._net if isinstance(m, nn.Linear)][-1].out_features)
        self.name = name

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        z = torch.as_tensor(z)
        if z.ndim != 2 or z.shape[1] != self.noise_dim:
            raise ValueError(f"z must have shape (n, {self.noise_dim}), got {tuple(z.shape)}")
        with torch.no_grad():
            return self._net(z.to(device=self._device, dtype=self._dtype)).to("cpu", torch.float64)

    def sample(self, n: int, *, generator: torch.Generator) -> tuple[torch.Tensor, None]:
        """``n`` draws ``G(z)``, ``z ~ N(0, I_{d_code})`` (float64 from ``generator``): ``(x, None)``."""
        n = check_number("n", n, low=1, integer=True)
        z = torch.randn(n, self.noise_dim, generator=generator, dtype=torch.float64)
        return self(z), None

    def __repr__(self) -> str:
        return f"LabGenerator({self.name}: R^{self.noise_dim} -> R^{self.dim})"


class LabEncoder:
    """A trained encoder (ALI/BiGAN) or reconstructor (VEEGAN) as a plain callable ``x -> z``.

    ``E(x)``: x (n, d), any float dtype -> z (n, d_code) float64 on the CPU; a private copy, no gradients.
    """

    def __init__(self, net: nn.Module, *, data_dim: int, name: str = "encoder") -> None:
        import copy

        self._net = copy.deepcopy(net).eval()
        for p in self._net.parameters():
            p.requires_grad_(False)
        self._device = next(self._net.parameters()).device
        self._dtype = next(self._net.parameters()).dtype  # float32 unless built under another default dtype
        self.dim = int(data_dim)
        self.noise_dim = int([m for m in self._net if isinstance(m, nn.Linear)][-1].out_features)
        self.name = name

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.as_tensor(x)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x must have shape (n, {self.dim}), got {tuple(x.shape)}")
        with torch.no_grad():
            return self._net(x.to(device=self._device, dtype=self._dtype)).to("cpu", torch.float64)

    def __repr__(self) -> str:
        return f"LabEncoder({self.name}: R^{self.dim} -> R^{self.noise_dim})"
