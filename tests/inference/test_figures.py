"""The inference deep dive's computations: number formats, the experiments, the figures."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from llmprep.foundations.hardware import H100_SXM
from llmprep.foundations.model_shapes import LLAMA_3_1_8B
from llmprep.foundations.tiny_lm import TinyLM, train
from llmprep.inference import figures as f
from llmprep.inference.minilm_quant import EmbeddingAgreement
from llmprep.inference.serving import ServerConfig, StepCostModel, fixed
from llmprep.inference.speculative import expected_tokens_per_call

TEXT = "the cat sat on the mat. the dog sat on the log. a cat and a dog sat together. " * 40


def test_format_ranges_match_the_standards() -> None:
    # IEEE 754 binary32/binary16, bfloat16, OCP FP8 (E4M3 max 448, E5M2 max 57344), E2M1 max 6
    assert f.FP32.max_value == pytest.approx(3.4028234663852886e38)
    assert f.FP16.max_value == 65504.0
    assert f.FP16.min_normal == 2.0**-14
    assert f.FP16.min_subnormal == 2.0**-24
    assert f.BF16.max_value == pytest.approx(3.3895313892515355e38)
    assert f.BF16.min_normal == f.FP32.min_normal
    assert f.E4M3.max_value == 448.0
    assert f.E4M3.min_subnormal == 2.0**-9
    assert f.E5M2.max_value == 57344.0
    assert f.E2M1.max_value == 6.0
    assert [fm.bits for fm in f.FORMATS] == [32, 16, 16, 8, 8, 4]
    assert f.E2M1.grid().tolist() == [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0]
    assert len(f.E4M3.grid()) == 127  # 256 codes: sign, two zeros, two NaNs
    with pytest.raises(ValueError, match="bits"):
        f.FP16.grid()


def test_fp_round_with_and_without_block_scales() -> None:
    x = np.array([[0.7, -2.4, 5.0, 100.0]])
    np.testing.assert_array_equal(f.fp_round(x, f.E2M1), [[0.5, -2.0, 4.0, 6.0]])  # saturates
    blocked = f.fp_round(x, f.E2M1, block=4)  # scale 2^5 = 32 puts 100 at 3.125 -> 3
    np.testing.assert_allclose(blocked, [[0.0, -0.0, 0.0, 96.0]])
    small = f.fp_round(np.array([[0.7, -2.4, 5.0, 1.0]]), f.E2M1, block=2)
    np.testing.assert_allclose(small, [[0.75, -2.0, 4.0, 1.0]])
    with pytest.raises(ValueError, match="block"):
        f.fp_round(x, f.E2M1, block=3)


def test_similarity_and_outlier_figures() -> None:
    a = EmbeddingAgreement(0.99, 0.95, 0.98, 0.9, 5)
    b = EmbeddingAgreement(0.9, 0.8, 0.85, 0.7, 5)
    fig = f.similarity_figure({"A": a, "B": b}, {"A": 8.0, "B": 4.5})
    assert isinstance(fig, Figure)
    assert len(fig.axes[0].lines) == 4
    fig2 = f.outlier_figure(
        {"L0": np.arange(8.0)}, [0.0, 0.5], {"per tensor": [0.1, 0.05]}, {"no smoothing": 0.1}
    )
    assert len(fig2.axes) == 2


@pytest.fixture(scope="module")
def pair() -> f.ModelPair:
    # tiny and fast: the same recipe as the chapter, on a short repetitive text
    draft = train(TEXT, context=2, emb_dim=4, hidden=8, steps=150, seed=1)
    target = train(TEXT, context=4, emb_dim=8, hidden=32, steps=300, seed=0)
    return f.ModelPair(draft, target, target.encode(TEXT[-300:]))


def test_cost_ratio_is_the_parameter_ratio(pair: f.ModelPair) -> None:
    def n(lm: TinyLM) -> int:
        return sum(p.size for p in lm.params.values())

    assert pair.cost_ratio == pytest.approx(n(pair.draft) / n(pair.target))
    assert 0 < pair.cost_ratio < 1


def test_acceptance_and_the_speculative_run(pair: f.ModelPair) -> None:
    alpha = f.acceptance_by_temperature(pair, [0.0, 1.0], positions=50)
    assert set(alpha) == {0.0, 1.0}
    assert all(0.0 <= a <= 1.0 for a in alpha.values())
    self_pair = f.ModelPair(pair.target, pair.target, pair.held_out)
    assert f.acceptance_by_temperature(self_pair, [0.0, 1.0], positions=30) == {
        0.0: pytest.approx(1.0),
        1.0: pytest.approx(1.0),
    }
    results = f.run_speculative(pair, [1, 3], [0.0], prompts=2, new_tokens=30)
    assert [(r.temperature, r.k) for r in results] == [(0.0, 1), (0.0, 3)]
    for r in results:
        assert 1.0 <= r.tokens_per_call <= r.k + 1
        assert r.predicted == pytest.approx(expected_tokens_per_call(r.alpha, r.k))
    same = f.run_speculative(self_pair, [3], [1.0], prompts=2, new_tokens=30)[0]
    assert same.alpha == pytest.approx(1.0)  # a draft equal to the target is always kept
    fig = f.speculative_figure(alpha, results)
    assert len(fig.axes) == 2


def test_serving_sweep_and_figure() -> None:
    cost = StepCostModel.from_shape(LLAMA_3_1_8B, H100_SXM)
    configs = {"static": ServerConfig("static"), "continuous": ServerConfig("continuous")}
    results = f.serving_sweep(
        cost, configs, [1.0, 4.0], n=40, prompt=fixed(200), output=fixed(20), seed=1
    )
    assert list(results) == ["static", "continuous"]
    assert all(len(v) == 2 for v in results.values())
    # the same request stream for every policy
    assert results["static"][0].requests == results["continuous"][0].requests
    fig = f.serving_figure([1.0, 4.0], results, ttft_slo=1.0, tpot_slo=0.05)
    assert len(fig.axes) == 2


def test_fp_round_ties_and_tensor_scale() -> None:
    # 0.75 sits halfway between 0.5 and 1.0: the even code (1.0) wins, as in IEEE rounding
    assert f.fp_round(np.array([0.75, 1.25]), f.E2M1).tolist() == [1.0, 1.0]
    x = np.array([896.0, 1.0])
    np.testing.assert_allclose(f.fp_round(x, f.E4M3, scale=2.0), [896.0, 1.0])
    assert f.fp_round(np.array([1e6]), f.E4M3)[0] == 448.0  # saturates, no inf
    with pytest.raises(ValueError, match="scale"):
        f.fp_round(x, f.E4M3, scale=0.0)
