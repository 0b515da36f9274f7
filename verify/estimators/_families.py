"""Discriminator families of declared capacity and Lipschitz constant (Arora, Risteski & Zhang 2017,
arXiv 1711.02651, Theorem 1; ``docs/papers/arz17.md``).

The theorem quantifies over discriminators of capacity ``p`` that are ``L``-Lipschitz in their parameters. This
module makes such a class concrete: :class:`MLPFamily` holds ``K`` ReLU MLPs with sigmoid output as stacked
tensors, constrained so that a Lipschitz constant in the parameters can be written down and is valid. The
measuring functions live in :mod:`._phi`, the trained attackers in :mod:`._attackers`.

Shape letters: ``n`` samples, ``K`` discriminators (members), ``p`` capacity (parameters of one member),
``d_in`` input width (``d`` for x alone, ``d + d_code`` for the joint input ``(x, code)``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from ganlimits.theory import check_positive

__all__ = ["MLPFamily"]

_SMALL_N = 256  # at or below this many rows, evaluate all members at once with baddbmm
# Train with one first-layer product for all members when the first layer is narrow (a product with a few
# output columns is bound by reading its input; measured 11x faster for width 4 on 1202-d inputs, and slower
# than the member loop for width 32) and K * width_1 is at most _FUSED_FIRST_LAYER.
_NARROW = 16
_FUSED_FIRST_LAYER = 512
_CHUNK = 2048  # row chunk of the member loop (addmm); keeps the hidden activations in L2 cache


def _spectral_norms(W: torch.Tensor) -> torch.Tensor:
    """Exact spectral norms (largest singular value, float64 SVD) of a stack (K, a, b) -> (K,)."""
    return torch.linalg.matrix_norm(W.detach().to(torch.float64), ord=2)


class MLPFamily:
    r"""K ReLU MLPs with sigmoid output, stored as stacked tensors: a discriminator class of declared
    capacity p and declared Lipschitz constant L in the parameters (Arora, Risteski & Zhang 2017, Theorem 1
    hypotheses).

    Member k maps an input row u (width ``d_in``) to

    .. math::

        h_0 = \rho_R(u),\quad h_l = \mathrm{ReLU}(h_{l-1} W_l + b_l)\ (l < L),\quad
        D(u) = \sigma(h_{L-1} W_L + b_L) \in [0, 1],

    with ``rho_R(u) = u min(1, R/||u||)`` the radial clip onto the input ball (fixed, parameter-free: inputs
    of norm <= R are unchanged). **The class**: every weight matrix has spectral norm ``||W_l||_2 <= s``
    (``weight_norm``, exact singular values, never power iteration) and every bias ``||b_l||_2 <= beta``
    (``bias_bound``); inputs reach the network with norm <= R (``input_radius``).

    **Lipschitz constant in the parameters** (Euclidean norm of the concatenated parameter vector theta).
    Activations are bounded: ``||h_l|| <= B_l`` with ``B_0 = R``, ``B_l = s B_{l-1} + beta`` (ReLU is
    1-Lipschitz with ReLU(0) = 0). For theta, theta' in the class and the same input, with ``e_l`` the
    distance of the layer-l pre-activations,
    ``e_l <= ||h_{l-1}|| ||W_l - W'_l||_2 + ||W'_l||_2 e_{l-1} + ||b_l - b'_l||
    <= B_{l-1} ||W_l - W'_l||_F + s e_{l-1} + ||b_l - b'_l||``, so unrolling and Cauchy-Schwarz give

    .. math::

        |D_\theta(u) - D_{\theta'}(u)| \le \tfrac14\, e_L \le L \|\theta - \theta'\|_2,\qquad
        L = \tfrac14 \Big(\sum_{l=1}^{L} s^{2(L-l)} (B_{l-1}^2 + 1)\Big)^{1/2}

    (1/4 is the Lipschitz constant of the sigmoid). :meth:`lipschitz_in_parameters` returns this L; it holds
    for every input because of the radial clip. In the input, each member is ``s^L / 4``-Lipschitz.

    Parameters (keyword-only): ``in_dim`` = d_in; ``hidden`` widths of the ReLU layers; ``K`` members;
    ``weight_norm`` = s; ``bias_bound`` = beta; ``input_radius`` = R (default ``sqrt(d_in)``, the ball around
    [-1, 1]^d_in); ``generator`` a ``torch.Generator`` for the random members (required unless ``weights``
    and ``biases`` are given: lists of (K, a, b) and (K, b) tensors, stored as given — check
    :meth:`in_class` or call :meth:`project_`); ``dtype`` of the parameters and of evaluation (float32
    default; norms and projections are computed in float64).

    Calling ``family(x)`` or ``family(x, code)`` (x: (n, d), code: (n, d_code), concatenated) returns the
    values of all members, shape (K, n). :meth:`member` gives a plain callable for one member.

    Deviation: the paper leaves the class abstract (capacity p, L-Lipschitz); this is the project's explicit
    class, with L derived above rather than assumed.

    >>> F = MLPFamily(in_dim=3, hidden=(4,), K=2, generator=torch.Generator().manual_seed(0))
    >>> F.capacity, round(F.lipschitz_in_parameters(), 4), bool(F.in_class().all())
    (21, 0.8826, True)
    >>> F(torch.zeros(5, 3)).shape  # K members, n inputs
    torch.Size([2, 5])
    """

    def __init__(
        self,
        *,
        in_dim: int,
        hidden: Sequence[int] = (64, 64),
        K: int,
        weight_norm: float = 1.0,
        bias_bound: float = 1.0,
        input_radius: float | None = None,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float32,
        weights: Sequence[torch.Tensor] | None = None,
        biases: Sequence[torch.Tensor] | None = None,
    ) -> None:
        if not isinstance(in_dim, int) or in_dim < 1:
            raise ValueError(f"in_dim must be an integer >= 1, got {in_dim!r}")
        hidden = tuple(hidden)
        if not all(isinstance(h, int) and h >= 1 for h in hidden):
            raise ValueError(f"hidden must be a sequence of integers >= 1, got {hidden!r}")
        if not isinstance(K, int) or K < 1:
            raise ValueError(f"K must be an integer >= 1, got {K!r}")
        self.in_dim = in_dim
        self.hidden = hidden
        self.K = K
        self.weight_norm = check_positive("weight_norm", weight_norm)
        self.bias_bound = check_positive("bias_bound", bias_bound)
        radius = math.sqrt(in_dim) if input_radius is None else input_radius
        self.input_radius = check_positive("input_radius", radius)
        self.dtype = dtype
        self.widths = (in_dim, *hidden, 1)
        if weights is None or biases is None:
            if generator is None:
                raise ValueError("generator must be a torch.Generator when weights and biases are not given")
            weights, biases = self._draw(generator)
        self.weights = [w.detach().to(dtype).clone() for w in weights]
        self.biases = [b.detach().to(dtype).clone() for b in biases]
        self._check_shapes()

    # ----- construction ------------------------------------------------------------------------------
    def _draw(self, generator: torch.Generator) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Gaussian weights rescaled to spectral norm exactly s (the boundary of the class, the most
        expressive members); Gaussian biases of expected norm beta, projected into the ball."""
        weights, biases = [], []
        for a, b in zip(self.widths[:-1], self.widths[1:], strict=True):
            W = torch.randn(self.K, a, b, generator=generator, dtype=torch.float64)
            W = W * (self.weight_norm / _spectral_norms(W))[:, None, None]
            bias = torch.randn(self.K, b, generator=generator, dtype=torch.float64)
            bias = bias * (self.bias_bound / math.sqrt(b))
            weights.append(W)
            biases.append(bias)
        self.weights, self.biases = [w.to(self.dtype) for w in weights], [b.to(self.dtype) for b in biases]
        self.project_()
        return self.weights, self.biases

    def _check_shapes(self) -> None:
        if len(self.weights) != len(self.widths) - 1 or len(self.biases) != len(self.widths) - 1:
            raise ValueError(f"weights and biases must hold {len(self.widths) - 1} layers each")
        for layer, (a, b) in enumerate(zip(self.widths[:-1], self.widths[1:], strict=True)):
            if tuple(self.weights[layer].shape) != (self.K, a, b):
                raise ValueError(f"weights[{layer}] must have shape {(self.K, a, b)}, got "
                                 f"{tuple(self.weights[layer].shape)}")
            if tuple(self.biases[layer].shape) != (self.K, b):
                raise ValueError(f"biases[{layer}] must have shape {(self.K, b)}, got "
                                 f"{tuple(self.biases[layer].shape)}")

    def _spec(self) -> dict:
        return dict(in_dim=self.in_dim, hidden=self.hidden, weight_norm=self.weight_norm,
                    bias_bound=self.bias_bound, input_radius=self.input_radius, dtype=self.dtype)

    def random(self, K: int, *, generator: torch.Generator) -> MLPFamily:
        """A new family of the same class with K fresh random members drawn with ``generator``."""
        return MLPFamily(K=K, generator=generator, **self._spec())

    def clone(self) -> MLPFamily:
        return MLPFamily(K=self.K, weights=self.weights, biases=self.biases, **self._spec())

    def select(self, index: Sequence[int] | torch.Tensor) -> MLPFamily:
        """The sub-family of the members listed in ``index``."""
        idx = torch.as_tensor(index, dtype=torch.long).reshape(-1)
        return MLPFamily(K=int(idx.numel()), weights=[w[idx] for w in self.weights],
                         biases=[b[idx] for b in self.biases], **self._spec())

    # ----- the class -----------------------------------------------------------------------------------
    @property
    def capacity(self) -> int:
        """p: the number of parameters of one member."""
        return sum(a * b + b for a, b in zip(self.widths[:-1], self.widths[1:], strict=True))

    @property
    def name(self) -> str:
        return (f"MLPFamily(d_in={self.in_dim}, hidden={self.hidden}, K={self.K}, p={self.capacity}, "
                f"s={self.weight_norm:g}, beta={self.bias_bound:g}, R={self.input_radius:g})")

    def __repr__(self) -> str:
        return self.name

    def activation_bounds(self) -> list[float]:
        """B_0..B_{L-1}: bounds on the norms of the inputs of each layer (see the class docstring)."""
        B = [self.input_radius]
        for _ in self.hidden:
            B.append(self.weight_norm * B[-1] + self.bias_bound)
        return B

    def lipschitz_in_parameters(self) -> float:
        """L with ``|D_theta(u) - D_theta'(u)| <= L ||theta - theta'||_2`` for theta, theta' in the class."""
        B = self.activation_bounds()
        n_layers = len(B)
        s = self.weight_norm
        total = sum(s ** (2 * (n_layers - 1 - i)) * (B[i] ** 2 + 1.0) for i in range(n_layers))
        return 0.25 * math.sqrt(total)

    def lipschitz_in_input(self) -> float:
        """Each member is ``s^L / 4``-Lipschitz in its input (Euclidean norm)."""
        return 0.25 * self.weight_norm ** (len(self.hidden) + 1)

    def parameter_radius(self) -> float:
        """Radius of a Euclidean ball (in R^p) containing the class: ||W||_F <= sqrt(rank) s per matrix."""
        sq = sum(min(a, b) * self.weight_norm**2 + self.bias_bound**2
                 for a, b in zip(self.widths[:-1], self.widths[1:], strict=True))
        return math.sqrt(sq)

    def _margin(self, a: int, b: int) -> float:
        # Rounding a rescaled matrix to the storage dtype moves its spectral norm by at most
        # ||E||_F <= (eps/2) sqrt(min(a, b)) ||W||_2, and the float64 SVD itself is accurate to a small
        # multiple of 1e-16 relative; scaling to s (1 - margin) keeps the stored matrix inside the class.
        eps = torch.finfo(self.dtype).eps
        return eps * (1.0 + math.sqrt(min(a, b))) + 1e-12

    @torch.no_grad()
    def project_(self) -> MLPFamily:
        """Map every member back into the class, in place: a matrix with exact spectral norm
        ``||W||_2 > s`` is rescaled to ``s (1 - margin)``, a bias with ``||b|| > beta`` to
        ``beta (1 - margin)`` (``margin`` a few ulps, so that the stored, rounded result is inside); members
        inside the class stay unchanged.
        """
        for W, bias in zip(self.weights, self.biases, strict=True):
            a, b = W.shape[1], W.shape[2]
            target = self.weight_norm * (1.0 - self._margin(a, b))
            norms = _spectral_norms(W)
            factor = torch.where(norms > self.weight_norm, target / norms, torch.ones_like(norms))
            W.mul_(factor.to(W.dtype)[:, None, None])
            btarget = self.bias_bound * (1.0 - self._margin(1, b))
            bnorms = torch.linalg.vector_norm(bias.detach().to(torch.float64), dim=1)
            bfactor = torch.where(bnorms > self.bias_bound, btarget / bnorms, torch.ones_like(bnorms))
            bias.mul_(bfactor.to(bias.dtype)[:, None])
        return self

    def in_class(self) -> torch.Tensor:
        """(K,) bool: whether each member satisfies the norm constraints (exact, float64)."""
        ok = torch.ones(self.K, dtype=torch.bool)
        for W, bias in zip(self.weights, self.biases, strict=True):
            ok &= _spectral_norms(W) <= self.weight_norm
            ok &= torch.linalg.vector_norm(bias.detach().to(torch.float64), dim=1) <= self.bias_bound
        return ok

    def flat_parameters(self) -> torch.Tensor:
        """(K, p) float64: each member's parameter vector (W_1, b_1, W_2, b_2, ... flattened row-major)."""
        parts = []
        for W, b in zip(self.weights, self.biases, strict=True):
            parts += [W.detach().reshape(self.K, -1), b.detach()]
        return torch.cat(parts, dim=1).to(torch.float64)

    def with_flat_parameters(self, theta: torch.Tensor) -> MLPFamily:
        """A family of the same class whose members have the parameter vectors ``theta`` (K', p).
        No projection: the caller decides whether the result is in the class (see :meth:`in_class`)."""
        theta = torch.as_tensor(theta)
        if theta.ndim != 2 or theta.shape[1] != self.capacity:
            raise ValueError(f"theta must have shape (K, {self.capacity}), got {tuple(theta.shape)}")
        K, pos, weights, biases = theta.shape[0], 0, [], []
        for a, b in zip(self.widths[:-1], self.widths[1:], strict=True):
            weights.append(theta[:, pos:pos + a * b].reshape(K, a, b))
            pos += a * b
            biases.append(theta[:, pos:pos + b])
            pos += b
        return MLPFamily(K=K, weights=weights, biases=biases, **self._spec())

    # ----- evaluation ----------------------------------------------------------------------------------
    def joint(self, x: torch.Tensor, code: torch.Tensor | None = None) -> torch.Tensor:
        """The network input: x (n, d) alone, or concatenated with code (n, d_code) -> (n, d + d_code)."""
        if isinstance(x, (tuple, list)):
            if code is not None:
                raise ValueError("give either a tuple (x, code) or x and code, not both")
            x, code = x
        x = torch.as_tensor(x)
        if code is not None:
            code = torch.as_tensor(code)
            if code.ndim == 1:
                code = code[:, None]
            x = torch.cat([x.to(self.dtype), code.to(self.dtype)], dim=1)
        if x.ndim != 2 or x.shape[1] != self.in_dim:
            raise ValueError(f"the input of {self.name} must have shape (n, {self.in_dim}), "
                             f"got {tuple(x.shape)}")
        return x.to(self.dtype)

    def clip_inputs(self, u: torch.Tensor) -> torch.Tensor:
        """rho_R: scale rows of norm > R back onto the sphere of radius R (norms in float64)."""
        norms = torch.linalg.vector_norm(u.detach().to(torch.float64), dim=1, keepdim=True)
        factor = torch.clamp(self.input_radius / torch.clamp(norms, min=1e-300), max=1.0)
        if bool((factor < 1).any()):
            u = u * factor.to(u.dtype)
        return u

    def __call__(self, x: torch.Tensor, code: torch.Tensor | None = None) -> torch.Tensor:
        """Values of all members, (K, n), in [0, 1]; no gradient. See :meth:`forward`."""
        with torch.no_grad():
            return self.forward(x, code)

    def forward(self, x: torch.Tensor, code: torch.Tensor | None = None, *, logits: bool = False,
                clipped: bool = False
                ) -> torch.Tensor:
        """Values (K, n) of all members (pre-sigmoid with ``logits``); differentiable in the parameters.

        Small n: all members at once with ``torch.baddbmm``; large n: a loop over members with ``torch.addmm``
        on row chunks of a few thousand (``docs/design.md``, "Performance design"). ``clipped=True`` says the rows are
        already inside the input ball (:meth:`clip_inputs` was applied), so their norms are not computed again."""
        u = self.joint(x, code)
        if not clipped:
            u = self.clip_inputs(u)
        n = u.shape[0]
        grad = torch.is_grad_enabled() and any(w.requires_grad for w in self.weights)
        if n <= _SMALL_N:
            a = self._batched(u)
        elif grad and self.widths[1] <= _NARROW and self.K * self.widths[1] <= _FUSED_FIRST_LAYER:
            a = self._fused_first_layer(u)
        elif grad:
            a = torch.stack([self._member_rows(k, u, inplace=False) for k in range(self.K)])
        else:
            a = torch.empty(self.K, n, dtype=self.dtype)
            for k in range(self.K):
                for start in range(0, n, _CHUNK):
                    a[k, start:start + _CHUNK] = self._member_rows(k, u[start:start + _CHUNK], inplace=True)
        return a if logits else torch.sigmoid(a)

    def _batched(self, u: torch.Tensor) -> torch.Tensor:
        h = u.unsqueeze(0).expand(self.K, *u.shape)
        last = len(self.weights) - 1
        for layer, (W, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = torch.baddbmm(b.unsqueeze(1), h, W)
            if layer < last:
                h = torch.relu(h)
        return h.squeeze(2)

    def _fused_first_layer(self, u: torch.Tensor) -> torch.Tensor:
        """Training path for narrow first layers: one product ``u @ [W_1^(1) ... W_1^(K)]`` reads the input once
        for all K members (the per-member loop re-reads it K times, and a product with a few output columns is
        bound by that reading); the later, small layers are batched over members with ``baddbmm``."""
        n, h1 = u.shape[0], self.widths[1]
        w_all = self.weights[0].permute(1, 0, 2).reshape(self.in_dim, self.K * h1)
        h = torch.addmm(self.biases[0].reshape(self.K * h1), u, w_all).view(n, self.K, h1).transpose(0, 1)
        for W, b in zip(self.weights[1:], self.biases[1:], strict=True):
            h = torch.baddbmm(b.unsqueeze(1), torch.relu(h), W)
        return h.squeeze(2)

    def _member_rows(self, k: int, u: torch.Tensor, *, inplace: bool) -> torch.Tensor:
        h = u
        last = len(self.weights) - 1
        for layer, (W, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = torch.addmm(b[k], h, W[k])
            if layer < last:
                h = h.relu_() if inplace else torch.relu(h)
        return h.squeeze(1)

    def member(self, index: int) -> Callable[..., torch.Tensor]:
        """Member ``index`` as a plain callable ``D(x, code=None) -> (n,)`` (no gradient)."""
        if not 0 <= index < self.K:
            raise ValueError(f"index must lie in [0, {self.K - 1}], got {index}")
        return _Member(self.select([index]), index)

    def to_modules(self) -> list[nn.Sequential]:
        """The members as K independent ``nn.Sequential`` (Linear, ReLU, ..., Linear, Sigmoid) modules, the
        loop oracle of tests and benchmarks. They do not include the radial clip: feed them
        :meth:`clip_inputs` of the input."""
        modules = []
        last = len(self.weights) - 1
        for k in range(self.K):
            layers: list[nn.Module] = []
            for layer, (W, b) in enumerate(zip(self.weights, self.biases, strict=True)):
                lin = nn.Linear(W.shape[1], W.shape[2], dtype=self.dtype)
                with torch.no_grad():
                    lin.weight.copy_(W[k].T)
                    lin.bias.copy_(b[k])
                layers += [lin, nn.ReLU() if layer < last else nn.Sigmoid()]
            modules.append(nn.Sequential(*layers))
        return modules


class _Member:
    """One member of an :class:`MLPFamily` as a callable ``D(x, code=None) -> (n,)``."""

    def __init__(self, family: MLPFamily, index: int) -> None:
        self.family = family
        self.index = index
        self.capacity = family.capacity
        self.__name__ = f"member {index} of {family.name}"

    def __call__(self, x: torch.Tensor, code: torch.Tensor | None = None) -> torch.Tensor:
        return self.family(x, code)[0]

    def __repr__(self) -> str:
        return self.__name__
