"""The instruments' one input protocol: what every instrument accepts (arrays, tensors, samplers, modules, callables,
an int or a generator as rng) and what each refuses by name (classes of bad input, drawn by hypothesis)."""

import math

import numpy as np
import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st

from ganlimits.constructions import ring
from ganlimits.verify import (
    birthday_test,
    closest_pairs,
    label_probe,
    mode_metrics,
    neural_net_distance,
    pilot_sizes,
    threshold_from_reference,
    wasserstein1,
)
from ganlimits.verify.estimators import (
    bigan_gap,
    bigan_samples,
    gap_from_values,
    nearest_distance_bound,
    probe_accuracy,
    train_attacker,
)

# ---- classes of bad samples ----------------------------------------------------------------------------------

BAD_KINDS = {
    "complex numpy": (lambda n, d: np.ones((n, d)) * (1 + 5j), "complex"),
    "complex torch": (lambda n, d: torch.ones(n, d, dtype=torch.complex64), "complex"),
    "meta tensor": (lambda n, d: torch.ones(n, d, device="meta"), "meta"),
    "python integers beyond int64": (lambda n, d: np.full((n, d), 10**30, dtype=object), "objects"),
    "integers beyond 2**53": (lambda n, d: np.full((n, d), 2**62, dtype=np.int64), "2**53"),
    "strings": (lambda n, d: np.full((n, d), "a"), "numeric"),
    "NaN": (lambda n, d: np.full((n, d), np.nan), "NaN"),
    "infinity": (lambda n, d: np.full((n, d), -np.inf), "infinite"),
    "three axes": (lambda n, d: np.zeros((n, d, 2)), "shape"),
}

_RING = ring()




INSTRUMENTS = {
    "closest_pairs": (lambda bad: closest_pairs(bad, 1), "x"),
    "birthday_test(pool)": (lambda bad: birthday_test(bad, sizes=[2], repeats=2, threshold=0.1, rng=0), "sample"),
    "birthday_test(sampler)": (lambda bad: birthday_test(lambda s, g: bad[:s], sizes=[2], repeats=2,
                                                         threshold=0.1, rng=0), "sample"),
    "pilot_sizes": (lambda bad: pilot_sizes(bad, threshold=0.1, rng=0), "sample"),
    "threshold_from_reference": (lambda bad: threshold_from_reference(bad), "x_real"),
    "neural_net_distance": (lambda bad: neural_net_distance(bad, np.zeros(bad.shape[:2]), steps=0, rng=0), "sample_p"),
    "wasserstein1": (lambda bad: wasserstein1(np.zeros(bad.shape[:2]), bad), "y"),
    "nearest_distance_bound": (lambda bad: nearest_distance_bound(bad, torch.zeros(3, bad.shape[1])), "points"),
    "probe_accuracy": (lambda bad: probe_accuracy(bad, np.arange(bad.shape[0]) % 2, np.zeros(bad.shape[:2]),
                                                  np.arange(bad.shape[0]) % 2), "train_features"),
    "train_attacker": (lambda bad: train_attacker(dict(in_dim=bad.shape[1], K=1), real=bad,
                                                  fake=np.zeros(bad.shape[:2]), steps=1, rng=0), "real"),
    "bigan_samples(target pool)": (lambda bad: bigan_samples(lambda z: z, lambda x: x, bad, n=2, rng=0), "target"),
    "bigan_samples(generator output)": (lambda bad: bigan_samples(lambda z: bad[: z.shape[0]], lambda x: x,
                                                                  np.zeros(bad.shape[:2]), n=2, rng=0), "generator"),
}
# mode_metrics scores non-finite rows as low quality (a diverged generator), so NaN and infinity are not refused there
MODE_KINDS = [k for k in BAD_KINDS if k not in ("NaN", "infinity")]


@pytest.mark.parametrize("instrument", list(INSTRUMENTS))
@given(kind=st.sampled_from(list(BAD_KINDS)), n=st.integers(4, 9), d=st.integers(1, 3))
@example(kind="complex numpy", n=4, d=2)
def test_every_instrument_refuses_each_class_of_bad_samples_by_name(instrument, kind, n, d):
    make, word = BAD_KINDS[kind]
    call, name = INSTRUMENTS[instrument]
    with pytest.raises(ValueError) as exc:
        call(make(n, d))
    message = str(exc.value)
    assert message.startswith(name) and word in message, (kind, message)
    assert len(message.splitlines()) == 1


@given(kind=st.sampled_from(MODE_KINDS), n=st.integers(1, 9))
@example(kind="complex numpy", n=8)  # the reported case: the ring's means + 5j gave 8 modes at 100%
def test_mode_metrics_refuses_each_class_of_bad_samples(kind, n):
    make, word = BAD_KINDS[kind]
    bad = (_RING.means.numpy() + 5j) if kind == "complex numpy" else make(n, 2)
    with pytest.raises(ValueError, match="samples") as exc:
        mode_metrics(bad, _RING)
    assert word in str(exc.value) or "shape" in str(exc.value)


@pytest.mark.parametrize("values", [torch.full((4,), 0.5, dtype=torch.complex128), np.full(4, 0.5 + 0j),
                                    torch.full((4,), 0.5, device="meta"), np.full(4, 10**30, dtype=object)])
def test_gap_from_values_refuses_complex_meta_and_objects(values):
    with pytest.raises(ValueError, match="discriminator"):
        gap_from_values(values, np.full(4, 0.5))


def test_wasserstein_of_complex_atoms_is_refused_not_measured():
    x = torch.zeros(5, 2, dtype=torch.complex128)
    with pytest.raises(ValueError, match="complex"):
        wasserstein1(x, x + 1j)


# ---- randomness: one argument, an int or a torch.Generator ---------------------------------------------------


@pytest.mark.parametrize("bad", [None, -1, 2**63, 0.5, "0", True, np.float64(1.0)])
def test_rng_must_be_an_int_seed_or_a_torch_generator(bad):
    with pytest.raises(ValueError, match="rng"):
        birthday_test(np.zeros((5, 2)), sizes=[2], repeats=2, threshold=0.1, rng=bad)


def test_an_int_rng_is_the_generator_seeded_with_it():
    law = np.random.default_rng(0).integers(0, 30, size=(400, 1)).astype(np.float64)
    a = birthday_test(law, sizes=[5, 10], repeats=30, threshold=0.5, rng=7, calibration_draws=100)
    b = birthday_test(law, sizes=[5, 10], repeats=30, threshold=0.5, rng=torch.Generator().manual_seed(7),
                      calibration_draws=100)
    old = birthday_test(law, sizes=[5, 10], repeats=30, threshold=0.5, generator=torch.Generator().manual_seed(7),
                        calibration_draws=100)
    assert a.to_dict() == b.to_dict() == old.to_dict()
    assert a.seed == 7
    with pytest.raises(ValueError, match="not both"):
        birthday_test(law, sizes=[5], repeats=2, threshold=0.5, rng=1, generator=torch.Generator())


# ---- samples: arrays, tensors and samplers give the same numbers ----------------------------------------------


def test_numpy_torch_float32_and_sampler_samples_agree():
    x = np.random.default_rng(1).normal(size=(300, 2))
    base = neural_net_distance(x, x + 0.5, hidden=(4,), K=2, steps=5, rng=3)
    assert neural_net_distance(torch.from_numpy(x), torch.from_numpy(x + 0.5), hidden=(4,), K=2, steps=5,
                               rng=3) == base
    f32 = neural_net_distance(x.astype(np.float32), (x + 0.5).astype(np.float32), hidden=(4,), K=2, steps=5, rng=3)
    assert f32.estimate == pytest.approx(base.estimate, abs=1e-5)  # float32 inputs: rounding of the data only
    # a sampler returning a bare tensor or (x, labels) is drawn once for n points
    sampler = lambda n, g: torch.randn(n, 2, generator=g, dtype=torch.float64)  # noqa: E731
    labelled = lambda n, g: (sampler(n, g), torch.zeros(n, dtype=torch.int64))  # noqa: E731
    assert neural_net_distance(sampler, labelled, n=200, hidden=(4,), K=2, steps=5, rng=3).n == 100
    with pytest.raises(ValueError, match="n: sample_p is a sampler"):
        neural_net_distance(sampler, x, hidden=(4,), K=2, steps=5, rng=3)
    m = mode_metrics(lambda n, g: _RING.sample(n, generator=g)[0].float(), _RING, n=500, rng=0)
    assert m.modes == 8 and m.n == 500


def test_a_torch_module_is_not_mistaken_for_a_sampler():
    with pytest.raises(ValueError, match="torch module"):
        birthday_test(torch.nn.Linear(2, 2), sizes=[2], repeats=2, threshold=0.1, rng=0)


# ---- finite pools: without replacement, and a support bounded by the pool says so ------------------------------


def test_a_pool_is_drawn_without_replacement_and_a_continuous_pool_is_bounded_by_its_size():
    """A pool of 300 distinct points, sampled up to s = 300: no pair of rows is ever the same row, so nothing
    collides; the interval reaches the pool and says so (the issue: resampling with replacement returned the pool
    size as the support)."""
    x = np.random.default_rng(2).normal(size=(300, 3))
    res = birthday_test(x, sizes=[100, 300], repeats=5, threshold=1e-9, rng=0, calibration_draws=100)
    assert res.collision_counts.tolist() == [0, 0]
    assert res.pool_size == 300 and res.bounded_by_pool and "pool" in res.note
    assert math.isinf(res.support_estimate.ci_high) and res.support_estimate.ci_low > 300
    # the floor: 300 duplicate-free uniform draws have probability <= 2.5% below it, and more just above it
    from ganlimits.theory import uniform_collision_probability

    floor = res.support_estimate.ci_low
    assert 1 - uniform_collision_probability(N=floor, s=300) == pytest.approx(0.025, rel=1e-3)
    with pytest.raises(ValueError, match="sizes: s = 301 is larger than the sample"):
        birthday_test(x, sizes=[301], repeats=2, threshold=0.1, rng=0)


def test_a_pool_of_forty_points_drawn_with_replacement_gives_about_forty():
    """Clopper-Pearson-based likelihood-ratio interval at 95%, one fixed seed (rng=0), n = 2000 saved draws of a
    40-point law: the interval holds 40 and is not bounded by the pool (its upper limit is far below 2000)."""
    idx = np.random.default_rng(3).integers(0, 40, 2000)
    x = np.stack([np.cos(idx), np.sin(idx)], axis=1)
    sizes = pilot_sizes(x, threshold=1e-6, rng=0)
    res = birthday_test(x, sizes=sizes, repeats=20, threshold=1e-6, rng=1)
    assert res.support_estimate.ci_low <= 40 <= res.support_estimate.ci_high < 200
    assert not res.bounded_by_pool and res.note == ""


@given(N=st.integers(200, 3000), max_size=st.integers(16, 256))
@example(N=5000, max_size=64)
def test_pilot_sizes_never_pass_max_size(N, max_size):
    law = lambda s, g: torch.randint(0, N, (s, 1), generator=g).double()  # noqa: E731
    try:
        sizes = pilot_sizes(law, threshold=0.5, rng=0, max_size=max_size, repeats=4)
    except ValueError as exc:
        assert "max_size" in str(exc)
        return
    assert max(sizes) <= max_size and min(sizes) >= 2


def test_pilot_sizes_on_a_pool_stop_at_its_size():
    x = np.repeat(np.arange(60.0), 2)[:, None]  # 60 points, each twice: the pool has 120 rows
    assert max(pilot_sizes(x, threshold=0.5, rng=0, max_size=4096)) <= 120


@pytest.mark.parametrize(("call", "name"), [
    (lambda: birthday_test(lambda s, g: torch.zeros(s, 2), sizes=[10**12], repeats=2, threshold=0.1, rng=0), "sizes"),
    (lambda: pilot_sizes(lambda s, g: torch.zeros(s, 2), threshold=0.1, rng=0, max_size=10**12), "max_size"),
    (lambda: neural_net_distance(lambda n, g: torch.zeros(n, 2), np.zeros((5, 2)), n=10**12, rng=0), "n"),
    (lambda: mode_metrics(lambda n, g: torch.zeros(n, 2), _RING, n=10**12, rng=0), "n"),
    (lambda: bigan_samples(lambda z: z, lambda x: x, _RING, n=10**12, rng=0), "n"),
    (lambda: label_probe(lambda x: x, _RING, n_train=10**12, rng=0), "n_train"),
])
def test_sizes_beyond_the_memory_budget_are_refused_by_name(call, name):
    with pytest.raises(ValueError, match=f"^{name} = 1000000000000 would need"):
        call()


# ---- models: their own dtype and device, under no_grad ----------------------------------------------------------


class _Target:
    dim = 2

    def sample(self, n, generator=None):
        return torch.randn(n, 2, generator=generator, dtype=torch.float64), torch.zeros(n, dtype=torch.int64)


def test_float32_modules_and_no_grad_contexts_are_handled():
    torch.manual_seed(0)
    G, E = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)  # float32, as a user trains them
    D = lambda x, c: torch.sigmoid(x.sum(1) - c.sum(1))  # noqa: E731
    with torch.no_grad():
        est = bigan_gap(D, G, E, _Target(), n=200, phi="identity", rng=0)
    by_hand = bigan_gap(D, lambda z: G(z.float()).double(), lambda x: E(x.float()).double(), _Target(), n=200,
                        phi="identity", rng=0)
    assert est == by_hand
    with torch.no_grad():
        fam = train_attacker(dict(in_dim=2, hidden=(3,), K=2), real=np.zeros((10, 2)), fake=np.ones((10, 2)),
                             steps=3, rng=0)
    assert fam.K == 2
    G64 = torch.nn.Linear(2, 2).double()
    x, code, fake, z = bigan_samples(G64, E, _Target(), n=5, rng=1)
    assert {t.dtype for t in (x, code, fake, z)} == {torch.float64}


@pytest.mark.parametrize(("model", "needle"), [
    (torch.nn.Linear(2, 2).to("meta"), "meta device"),
    (torch.nn.Linear(2, 2, dtype=torch.complex64), "complex"),
    (lambda z: (z, z), "one (n, d) tensor"),
    (lambda z: z[:1], "rows"),
    (lambda z: z * float("nan"), "NaN"),
    ("not a model", "callable"),
])
def test_bad_generators_are_named(model, needle):
    with pytest.raises(ValueError, match="generator") as exc:
        bigan_samples(model, lambda x: x, _Target(), n=3, rng=0)
    assert needle in str(exc.value)


def test_label_probe_reads_a_leaking_encoder_and_not_a_blind_one():
    """One-sided exact binomial test at alpha = 0.05 against the population chance 1/8 (ring target, n_test = 400,
    seed 0): an encoder that returns x itself carries the mode; one that returns noise does not."""
    t = ring()
    leaky = label_probe(lambda x: x, t, n_train=400, n_test=400, rng=0)
    blind = label_probe(lambda x: torch.randn(x.shape[0], 2, generator=torch.Generator().manual_seed(1),
                                              dtype=torch.float64), t, n_train=400, n_test=400, rng=0)
    assert leaky["detected"] and leaky["pvalue"] < 0.05 and leaky["chance"] == pytest.approx(1 / 8)
    assert not blind["detected"]
    with pytest.raises(ValueError, match="labels"):
        label_probe(lambda x: x, lambda n, g: torch.zeros(n, 2), rng=0)
