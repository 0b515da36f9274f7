"""Exact closest-pair search with bounded memory: the first step of the birthday-paradox test.

Shape letters: ``s`` points (the birthday test's sample size), ``d`` coordinates compared, ``k`` pairs
returned, ``b`` rows per block.

The search is blockwise: for row block ``I`` and column blocks ``J >= I`` it forms the approximate squared
distances ``|a|^2 + |b|^2 - 2 a.b`` with one matrix product (float32, on centered data scaled into [-1, 1]),
keeps a running top-``k`` over the upper triangle, and collects every pair within a proven bound on the
rounding error of the running ``k``-th value. The final candidates are re-measured as ``|a - b|`` in
float64 and ranked there, so no pair is lost or misordered by rounding in the fast pass. No ``s x s`` matrix
is ever held: memory is ``O(b^2 + s d)``.
"""

from __future__ import annotations

import numpy as np
import torch

from ._inputs import as_points

__all__ = ["closest_pairs", "nearest_neighbour_distances", "select_coordinates"]

_U64 = float(np.finfo(np.float64).eps) / 2  # unit roundoff of float64
_MAX_CANDIDATES = 2_000_000
_PASS_DTYPE = torch.float32  # candidate pass only; the result is decided in float64


def select_coordinates(x: torch.Tensor, coords=None) -> torch.Tensor:
    """``x`` restricted to ``coords`` (a sequence of column indices, a boolean mask of length ``d``, or
    ``None`` for all columns), as a float64 tensor of shape ``(s, d_coords)``. ``x``: an array or a tensor
    (complex values and the meta device are refused by name)."""
    x = as_points(x, "x", finite=False)
    if coords is None:
        return x
    idx = torch.as_tensor(np.asarray(coords))
    if idx.dtype == torch.bool:
        if idx.ndim != 1 or idx.numel() != x.shape[1]:
            raise ValueError(f"coords as a mask must have length d = {x.shape[1]}, "
                             f"got shape {tuple(idx.shape)}")
        idx = torch.nonzero(idx).flatten()
    idx = idx.to(torch.int64).flatten()
    if idx.numel() == 0:
        raise ValueError("coords must select at least one coordinate")
    if int(idx.min()) < -x.shape[1] or int(idx.max()) >= x.shape[1]:
        raise ValueError(f"coords must be column indices in [0, {x.shape[1]}), got range "
                         f"[{int(idx.min())}, {int(idx.max())}]")
    return x[:, idx]


def _exact_distances(x: torch.Tensor, i: torch.Tensor, j: torch.Tensor) -> torch.Tensor:
    return (x[i] - x[j]).pow(2).sum(dim=1).sqrt()


def closest_pairs(
    x: torch.Tensor, k: int = 20, *, coords=None, block_size: int = 2048
) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` closest pairs among the rows of ``x`` (Euclidean distance), closest first.

    Arora & Zhang (2017), birthday-paradox test, step (b): "flag the 20 most similar pairs". Exact:

    .. math::
        \\{(i_1, j_1), \\dots, (i_k, j_k)\\} = \\operatorname{arg\\,top}_k^{\\min}
        \\bigl\\{\\, \\|x_i - x_j\\|_2 : 0 \\le i < j < s \\,\\bigr\\}

    ordered by distance, ties broken by ``(i, j)`` lexicographically.

    Parameters
    ----------
    x:
        ``(s, d)`` points (any float dtype; converted to float64).
    k:
        Number of pairs, ``1 <= k <= s (s - 1) / 2``.
    coords:
        Coordinates to compare (column indices or a boolean mask of length ``d``; ``None``: all). The
        memorizing generator's near-duplicates differ only in the code positions, so the birthday test
        compares them on the clean positions (``NoiseModel.clean_positions``) or on an embedding computed
        beforehand.
    block_size:
        Rows per block ``b``; peak extra memory is about ``2 b^2`` float32 values (32 MB at the default).

    Returns
    -------
    indices:
        ``(k, 2)`` int64, ``i < j`` in each row.
    distances:
        ``(k,)`` float64, non-decreasing, each recomputed as ``|x_i - x_j|`` in float64.

    Deviation: the blockwise pass uses the matrix-product form in float32, whose rounding error on a squared
    distance is at most ``E = (2 gamma_d + 6u)(|a|^2 + |b|^2)`` (``u`` the float32 unit roundoff,
    ``gamma_d = (d+1) u / (1 - (d+1) u)``), plus the bounded errors of the cast, the comparison and the float64
    centering, all taken at the largest squared norm after centering. Every pair whose approximate value is
    within ``2E`` of the running ``k``-th smallest is kept and re-measured in float64, which makes the result
    exact: the float32 pass only prunes, it never decides. Far outliers enlarge ``E`` and so the number of
    candidates; beyond two million candidates (e.g. thousands of identical points) the two million with the
    smallest approximate values are re-measured, so order among such ties is decided up to the margin.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)) or block_size < 1:
        raise ValueError(f"block_size must be an integer >= 1, got {block_size!r}")
    xs = select_coordinates(x, coords)
    s, d = xs.shape
    if s < 2:
        raise ValueError(f"x must hold at least s = 2 points, got s = {s}")
    if not bool(torch.isfinite(xs).all()):
        raise ValueError("x contains NaN or infinite values in the compared coordinates")
    if k > s * (s - 1) // 2:
        raise ValueError(f"k must be at most s (s - 1) / 2 = {s * (s - 1) // 2} for s = {s}, got k = {k}")
    k = int(k)

    # Candidate pass in float32 on centered data scaled by a power of two (exact) into [-1, 1]; every rounding
    # below is bounded relative to the largest squared norm, and the margin covers the sum of the bounds.
    xc = xs - xs.mean(dim=0, keepdim=True)  # centering shrinks norms and with them the rounding margin
    peak = float(xc.abs().max())
    scale = 2.0 ** np.ceil(np.log2(peak)) if peak > 0 else 1.0
    xw = (xc / scale).to(_PASS_DTYPE)
    nw = xw.double().pow(2).sum(dim=1).to(_PASS_DTYPE)
    u = float(torch.finfo(_PASS_DTYPE).eps) / 2
    max_norm = float(nw.double().max()) * (1 + 2 * u)
    gamma_d = (d + 1) * u / (1 - (d + 1) * u)
    err = (2 * gamma_d + 6 * u) * 2.0 * max_norm  # the matrix-product form |a|^2 + |b|^2 - 2 a.b
    err += 8 * u * max_norm + 2 * d * float(torch.finfo(_PASS_DTYPE).tiny)  # the cast to the pass dtype
    err += 10 * u * max_norm  # the comparison against limit - |a|^2 (limit <= 5 max_norm)
    shift = 4 * _U64 * float(xs.abs().max()) * d**0.5 / scale  # the float64 centering
    err += 4 * max_norm**0.5 * shift + shift**2
    margin = 2.0 * err  # candidates: approximate value <= k-th approximate value + 2E

    cand_i = torch.empty(0, dtype=torch.int64)
    cand_j = torch.empty(0, dtype=torch.int64)
    cand_v = torch.empty(0, dtype=torch.float64)
    kth = float("inf")
    b = int(block_size)
    for r0 in range(0, s, b):
        r1 = min(r0 + b, s)
        rows = xw[r0:r1]
        n_rows = nw[r0:r1]
        for c0 in range(r0, s, b):
            c1 = min(c0 + b, s)
            # approximate squared distances minus the row norm, |b|^2 - 2 a.b (one addmm); the row norm |a|^2
            # is added only to the few entries kept, and subtracted from the limit instead
            block = torch.addmm(nw[c0:c1].unsqueeze(0), rows, xw[c0:c1].T, beta=1.0, alpha=-2.0)
            if c0 == r0:  # diagonal block: keep the strict upper triangle only
                tri = torch.ones(r1 - r0, c1 - c0, dtype=torch.bool).tril_()
                block.masked_fill_(tri, float("inf"))
            row_min = block.amin(dim=1)  # one pass; only rows whose minimum passes are searched further
            limit = kth + margin
            if kth == float("inf"):
                # the k smallest row minima are k distinct entries, so their largest bounds the k-th smallest
                # entry of the block from above (unlike a top-k over the whole block, no extra pass)
                firsts = (row_min + n_rows).double()
                firsts = torch.cat([cand_v, firsts[torch.isfinite(firsts)]])
                if len(firsts) >= k:
                    limit = float(firsts.kthvalue(k).values) + margin
            row_limit = limit - n_rows
            rows_hit = torch.nonzero(row_min <= row_limit).flatten()
            if rows_hit.numel():
                sub = block[rows_hit]
                if limit < float("inf"):
                    loc = torch.nonzero(sub <= row_limit[rows_hit].unsqueeze(1))
                else:
                    loc = torch.nonzero(torch.isfinite(sub))
                hi, hj = rows_hit[loc[:, 0]], loc[:, 1]
                cand_v = torch.cat([cand_v, (block[hi, hj] + n_rows[hi]).double()])
                cand_i = torch.cat([cand_i, hi + r0])
                cand_j = torch.cat([cand_j, hj + c0])
                if len(cand_v) >= k:
                    kth = min(kth, float(cand_v.kthvalue(k).values))
                    keep = cand_v <= kth + margin
                    cand_v, cand_i, cand_j = cand_v[keep], cand_i[keep], cand_j[keep]
                if len(cand_v) > _MAX_CANDIDATES:
                    order = torch.argsort(cand_v, stable=True)[:_MAX_CANDIDATES]
                    cand_v, cand_i, cand_j = cand_v[order], cand_i[order], cand_j[order]
            del block

    exact = _exact_distances(xs, cand_i, cand_j)
    order = np.lexsort((cand_j.numpy(), cand_i.numpy(), exact.numpy()))[:k]
    order_t = torch.from_numpy(order)
    indices = torch.stack([cand_i[order_t], cand_j[order_t]], dim=1)
    return indices, exact[order_t]


def nearest_neighbour_distances(x: torch.Tensor, *, coords=None, block_size: int = 2048) -> torch.Tensor:
    """Distance from each row of ``x`` to its nearest other row, ``(s,)`` float64.

    .. math::
        r_i = \\min_{j \\ne i} \\|x_i - x_j\\|_2

    Blockwise (memory ``O(b s)``): the nearest neighbour is chosen with the matrix-product form and its
    distance re-measured exactly; a neighbour closer by less than the rounding margin of :func:`closest_pairs`
    may be passed over, which changes ``r_i`` by at most that margin (relative ``~1e-13``). Used to set the
    birthday test's duplicate threshold from real data (:func:`~ganlimits.verify.threshold_from_reference`).
    """
    if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)) or block_size < 1:
        raise ValueError(f"block_size must be an integer >= 1, got {block_size!r}")
    xs = select_coordinates(x, coords)
    s = xs.shape[0]
    if s < 2:
        raise ValueError(f"x must hold at least s = 2 points, got s = {s}")
    if not bool(torch.isfinite(xs).all()):
        raise ValueError("x contains NaN or infinite values in the compared coordinates")
    xc = xs - xs.mean(dim=0, keepdim=True)
    norms = xc.pow(2).sum(dim=1)
    nearest = torch.empty(s, dtype=torch.int64)
    for r0 in range(0, s, int(block_size)):
        r1 = min(r0 + int(block_size), s)
        block = torch.addmm(norms.unsqueeze(0), xc[r0:r1], xc.T, beta=1.0, alpha=-2.0)
        block[torch.arange(r1 - r0), torch.arange(r0, r1)] = float("inf")
        nearest[r0:r1] = block.argmin(dim=1)
    return _exact_distances(xs, torch.arange(s), nearest)
