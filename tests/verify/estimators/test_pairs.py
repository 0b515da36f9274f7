"""Exact closest-pair search: equal to a brute-force ``torch.cdist`` search, bounded memory, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st

from ganlimits.verify import closest_pairs
from ganlimits.verify.estimators import nearest_neighbour_distances


def brute_force(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Every pair i < j with its distance from ``torch.cdist`` without the matrix-product shortcut, ordered by
    (distance, i, j)."""
    x = x.to(torch.float64)
    D = torch.cdist(x, x, compute_mode="donot_use_mm_for_euclid_dist")
    s = x.shape[0]
    i, j = torch.triu_indices(s, s, 1)
    v = D[i, j]
    order = torch.from_numpy(np.lexsort((j.numpy(), i.numpy(), v.numpy())))
    return torch.stack([i[order], j[order]], dim=1), v[order]


def assert_same_pairs(x: torch.Tensor, k: int, got_idx: torch.Tensor, got_d: torch.Tensor,
                      tol: float = 1e-12) -> None:
    """Same pairs in the same order, up to ties: distances agree to ``tol`` (relative, both are direct float64
    sums, possibly in another order), and each returned pair is a pair whose brute-force distance is the one
    at that rank (a tie at the cut may be resolved either way only between pairs of equal distance)."""
    ref_idx, ref_d = brute_force(x)
    assert got_idx.shape == (k, 2) and got_d.shape == (k,)
    assert got_idx.dtype == torch.int64 and got_d.dtype == torch.float64
    assert bool((got_idx[:, 0] < got_idx[:, 1]).all())
    torch.testing.assert_close(got_d, ref_d[:k], rtol=tol, atol=tol)
    scale = tol * max(1.0, float(ref_d[:k].max()))
    for r in range(k):
        if torch.equal(got_idx[r], ref_idx[r]):
            continue
        # a tie: the returned pair has (to rounding) the same distance as the reference pair of this rank
        i, j = got_idx[r].tolist()
        true = float(torch.linalg.vector_norm(x[i].double() - x[j].double()))
        assert abs(true - float(ref_d[r])) <= scale, f"rank {r}: {(i, j)} vs {ref_idx[r].tolist()}"
    assert len({tuple(p) for p in got_idx.tolist()}) == k  # no pair twice


@st.composite
def point_sets(draw):
    s = draw(st.integers(2, 40))
    d = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**31 - 1))
    g = torch.Generator().manual_seed(seed)
    if draw(st.booleans()):  # integer grid: many exact ties
        scale = draw(st.sampled_from([1.0, 0.1, 1e3]))
        x = torch.randint(-2, 3, (s, d), generator=g).to(torch.float64) * scale
    else:
        x = torch.randn(s, d, generator=g, dtype=torch.float64) * draw(st.sampled_from([1.0, 1e-3, 1e4]))
        x = x + draw(st.sampled_from([0.0, 1.0, 1e6]))  # offsets stress the matrix-product form
    n_dup = draw(st.integers(0, min(5, s - 1)))
    for a in range(n_dup):  # planted exact duplicates
        x[(a * 7 + 3) % s] = x[(a * 5) % s]
    k = draw(st.integers(1, min(30, s * (s - 1) // 2)))
    block = draw(st.integers(1, 48))
    return x, k, block


@given(point_sets())
@example((torch.zeros(5, 3, dtype=torch.float64), 10, 2))  # all points equal: every pair ties at 0
@example((torch.tensor([[0.0], [1.0], [3.0], [6.0]], dtype=torch.float64), 6, 1))
def test_equals_brute_force(case):
    x, k, block = case
    idx, dist = closest_pairs(x, k, block_size=block)
    assert_same_pairs(x, k, idx, dist)


def test_exact_ties_are_broken_by_index():
    x = torch.zeros(6, 2, dtype=torch.float64)
    idx, dist = closest_pairs(x, 15, block_size=2)
    assert idx.tolist() == [[i, j] for i in range(6) for j in range(i + 1, 6)]
    assert bool((dist == 0).all())


def test_cancellation_is_repaired_where_the_naive_product_fails():
    """Points 1e6 away from the origin, 1e-3 apart: the matrix-product form without centering, margin and
    exact re-measurement picks the wrong pairs (negative control); ``closest_pairs`` equals brute force."""
    g = torch.Generator().manual_seed(11)
    x = 1e6 + 1e-3 * torch.randn(60, 8, generator=g, dtype=torch.float64)
    k = 20
    idx, dist = closest_pairs(x, k, block_size=16)
    assert_same_pairs(x, k, idx, dist)

    n = x.pow(2).sum(1)
    naive = n[:, None] + n[None, :] - 2 * x @ x.T
    i, j = torch.triu_indices(60, 60, 1)
    naive_top = set(map(tuple, torch.stack([i, j], 1)[naive[i, j].argsort()[:k]].tolist()))
    ref_idx, _ = brute_force(x)
    assert naive_top != set(map(tuple, ref_idx[:k].tolist()))


def test_coords_select_the_compared_coordinates():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(50, 10, generator=g, dtype=torch.float64)
    clean = torch.tensor([0, 2, 3, 5, 7, 8])
    x[7, clean] = x[31, clean]  # identical on the clean positions, different elsewhere
    idx, dist = closest_pairs(x, 5, coords=clean)
    assert idx[0].tolist() == [7, 31] and float(dist[0]) == 0.0
    assert_same_pairs(x[:, clean], 5, idx, dist)
    mask = torch.zeros(10, dtype=torch.bool)
    mask[clean] = True
    idx_m, dist_m = closest_pairs(x, 5, coords=mask)
    assert torch.equal(idx_m, idx) and torch.equal(dist_m, dist)
    # negative control: on all coordinates the planted pair is not a duplicate
    _, dist_all = closest_pairs(x, 1)
    assert float(dist_all[0]) > 0.1


def test_many_blocks_on_a_medium_input():
    g = torch.Generator().manual_seed(5)
    x = torch.randn(1500, 8, generator=g, dtype=torch.float32)
    x[100] = x[1200]
    x[7] = x[8] + 1e-6
    idx, dist = closest_pairs(x, 20, block_size=128)
    assert idx[0].tolist() == [100, 1200] and idx[1].tolist() == [7, 8]
    assert_same_pairs(x, 20, idx, dist)


def test_nearest_neighbour_distances_equal_brute_force():
    g = torch.Generator().manual_seed(9)
    x = torch.randn(300, 5, generator=g, dtype=torch.float64)
    D = torch.cdist(x, x, compute_mode="donot_use_mm_for_euclid_dist")
    D.fill_diagonal_(float("inf"))
    torch.testing.assert_close(nearest_neighbour_distances(x, block_size=64), D.min(dim=1).values,
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "x,kwargs,match",
    [
        (torch.zeros(1, 3), {}, "s = 2"),
        (torch.zeros(3), {}, "2-D"),
        (torch.tensor([[0.0, 1.0], [float("nan"), 0.0], [1.0, 1.0]]), {}, "NaN"),
        (torch.tensor([[0.0], [float("inf")]]), {}, "NaN or infinite"),
        (torch.zeros(4, 2), {"k": 7}, "at most s"),
        (torch.zeros(4, 2), {"k": 0}, "k must be"),
        (torch.zeros(4, 2), {"block_size": 0}, "block_size"),
        (torch.zeros(4, 2), {"coords": [0, 5]}, "coords"),
        (torch.zeros(4, 2), {"coords": []}, "coords"),
    ],
)
def test_bad_input_raises(x, kwargs, match):
    with pytest.raises(ValueError, match=match):
        closest_pairs(x, **kwargs)


def test_nan_outside_the_compared_coordinates_is_allowed():
    x = torch.tensor([[0.0, float("nan")], [1.0, float("nan")], [0.5, 0.0]])
    idx, dist = closest_pairs(x, 1, coords=[0])
    assert float(dist[0]) == 0.5


@pytest.mark.slow
def test_hundred_thousand_points_in_bounded_memory():
    """s = 10^5 points of dimension 64 (float32 input, 25.6 MB). A full s x s float64 matrix would take 80 GB;
    the search must finish with peak resident memory under 1.5 GB (measured by resource.getrusage in a fresh
    process) and find the two planted pairs."""
    script = textwrap.dedent(
        """
        import json, resource, torch
        torch.set_num_threads(1)
        from ganlimits.verify import closest_pairs
        g = torch.Generator().manual_seed(0)
        x = torch.randn(100_000, 64, generator=g)
        x[123] = x[98_765]
        x[5] = x[77_777] + 1e-3
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        idx, dist = closest_pairs(x, 20)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps([idx[0].tolist(), idx[1].tolist(), float(dist[0]), float(dist[2]), before, peak]))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         timeout=1800)
    first, second, d0, d2, before_kb, peak_kb = json.loads(out.stdout.strip().splitlines()[-1])
    assert first == [123, 98765] and second == [5, 77777] and d0 == 0.0 and d2 > 1.0
    msg = f"peak RSS {peak_kb / 1024:.0f} MB (before the search {before_kb / 1024:.0f} MB)"
    assert peak_kb < 1.5 * 1024**2, msg


@given(point_sets(), st.integers(2, 6))
def test_batched_search_of_the_birthday_test_equals_brute_force(case, R):
    """The birthday test finds the pairs of many small samples at once; each must equal brute force."""
    from ganlimits.verify.estimators._birthday import _batched_closest_pairs

    x, k, _ = case
    batch = torch.stack([x.roll(r, dims=0) * (1 + r) for r in range(R)])
    for r, (idx, dist) in enumerate(_batched_closest_pairs(batch, k)):
        assert_same_pairs(batch[r], k, idx, dist)
