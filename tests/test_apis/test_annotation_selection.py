"""SDE-Seg's automatic data selection: eq. 2-4, pooling, standardisation, schedule
and resumable state, each checked against numbers worked out by hand."""
import json
import math

import numpy as np
import pytest
import torch

from mmdepthsem.apis.annotation_selection import (
    PAPER_STEP_SIZES, SelectionState, check_step_sizes, first_index, min_distances,
    pool_features, run_selection, select_next, selection_scores,
    standardise_features, student_sizes, uncertainty_error)

# three tight clusters far apart: A near (0, 0), B near (100, 0), C near (0, 60)
CLUSTERS = np.array([[0, 0], [1, 0], [0, 1],          # A: 0, 1, 2
                     [100, 0], [101, 0], [100, 1],    # B: 3, 4, 5
                     [0, 60], [1, 60], [0, 61]], float)  # C: 6, 7, 8
CLUSTER_OF = [0, 0, 0, 1, 1, 1, 2, 2, 2]


def _state(num, steps, seed=0, lambda_e=0.0):
    return SelectionState(pool_names=[f'img{i}' for i in range(num)],
                          step_sizes=list(steps), lambda_e=lambda_e, seed=seed)


def test_farthest_point_order_across_clusters():
    selected = [0]
    for _ in range(2):
        selected.append(select_next(CLUSTERS, selected, errors=None, lambda_e=0.0))
    # (101, 0) is farthest from (0, 0); then (0, 61) (61 from A, > 100 from B)
    assert selected == [0, 4, 8]
    # from any random start, the first three picks visit the three clusters
    for seed in range(6):
        state = run_selection(CLUSTERS, _state(9, (3, ), seed),
                              lambda sel, step: pytest.fail('no student'),
                              log=lambda m: 0)
        assert sorted(CLUSTER_OF[i] for i in state.selected) == [0, 1, 2]
        assert state.selected[0] == first_index(9, seed)


def test_huge_lambda_picks_largest_error():
    errors = np.array([0.9, 0.1, 0.3, 0.2, 0.05, 0.0, 0.8, 0.4, 0.6])
    assert select_next(CLUSTERS, [0], errors, lambda_e=1e9) == 6  # 0 is selected
    assert select_next(CLUSTERS, [0, 6], errors, lambda_e=1e9) == 8
    # and lambda_E = 0 ignores the errors
    assert select_next(CLUSTERS, [0], errors, lambda_e=0.0) == 4


def test_eq4_scores_by_hand():
    feats = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0], [0.0, 1.0]])
    errors = np.array([0.5, 0.1, 0.002, 0.3])
    # distances to {0, 3}: 1 -> min(5, sqrt(9 + 9)), 2 -> min(10, sqrt(36 + 49))
    expected_dist = [0.0, math.sqrt(18), math.sqrt(85), 0.0]
    np.testing.assert_allclose(min_distances(feats, [0, 3]), expected_dist)
    scores = selection_scores(feats, [0, 3], errors, lambda_e=10.0)
    assert scores[0] == scores[3] == -np.inf
    np.testing.assert_allclose(scores[1:3], [math.sqrt(18) + 1.0, math.sqrt(85) + 0.02])
    # eq. 2: distances only
    np.testing.assert_allclose(selection_scores(feats, [0, 3])[1:3], expected_dist[1:3])
    # a large error beats distance: sqrt(18) + 10 * 0.9 > sqrt(85) + 0.02
    errors[1] = 0.9
    assert select_next(feats, [0, 3], errors, lambda_e=10.0) == 1
    with pytest.raises(ValueError, match='every image'):
        select_next(feats, [0, 1, 2, 3])


def test_eq3_by_hand():
    sde = torch.tensor([[[[0.5, 0.25]]], [[[0.1, 0.9]]]])
    side = torch.tensor([[[[0.25, 0.25]]], [[[0.2, 0.9]]]])
    expected = [abs(math.log(1.5) - math.log(1.25)) / 2,
                abs(math.log(1.1) - math.log(1.2)) / 2]
    np.testing.assert_allclose(uncertainty_error(sde, side).numpy(), expected)
    valid = torch.tensor([[[[True, False]]], [[[True, True]]]])
    np.testing.assert_allclose(uncertainty_error(sde, side, valid).numpy(),
                               [abs(math.log(1.5) - math.log(1.25)), expected[1]])
    with pytest.raises(ValueError, match='valid pixel'):
        uncertainty_error(sde, side, torch.zeros_like(valid))
    with pytest.raises(ValueError, match='differ'):
        uncertainty_error(sde, side[..., :1])


def test_pooling_and_standardisation_by_hand():
    fmap = torch.arange(32, dtype=torch.float32).reshape(1, 1, 4, 8)
    pooled = pool_features(fmap, size=(2, 4))
    # cell (0, 0) averages rows 0-1, columns 0-1: (0 + 1 + 8 + 9) / 4
    assert pooled.shape == (1, 1, 2, 4)
    assert pooled[0, 0, 0, 0] == 4.5 and pooled[0, 0, 1, 3] == (22 + 23 + 30 + 31) / 4
    # the default 4 x 8 cells are 4 rows and 8 columns (a 2:1 frame)
    assert pool_features(torch.rand(2, 3, 64, 128)).shape == (2, 3, 4, 8)
    # per channel over images and cells: channel 0 holds 0, 2 | 4, 6 -> mean 3
    feats = np.array([[[[0.0, 2.0]], [[1.0, 1.0]]],
                      [[[4.0, 6.0]], [[1.0, 1.0]]]])  # (N=2, C=2, 1, 2)
    std0 = math.sqrt(((0 - 3) ** 2 + (2 - 3) ** 2 + (4 - 3) ** 2 + (6 - 3) ** 2) / 4)
    out = standardise_features(feats)
    assert out.shape == (2, 4)
    np.testing.assert_allclose(out[:, :2], [[-3 / std0, -1 / std0],
                                            [1 / std0, 3 / std0]])
    np.testing.assert_allclose(out[:, 2:], 0.0)  # constant channel
    flat = standardise_features(torch.tensor([[1.0, 10.0], [3.0, 10.0]]))
    np.testing.assert_allclose(flat, [[-1.0, 0.0], [1.0, 0.0]])


def test_schedule_trains_student_at_corrected_sizes(tmp_path):
    rng = np.random.default_rng(1)
    feats = rng.normal(size=(12, 5))
    calls = []

    def student(selected, step):
        calls.append((step, len(selected)))
        return np.arange(12, dtype=float) * step, 0.5

    path = str(tmp_path / 'state.json')
    state = run_selection(feats, _state(12, (2, 4, 7), lambda_e=1.0), student, path,
                          log=lambda m: 0)
    # trained when |G_A| reaches 2 and 4 (not 1 and 3 as Algorithm 1's line 5 reads),
    # and not after the last step
    assert calls == [(1, 2), (2, 4)]
    assert student_sizes((2, 4, 7)) == (2, 4)
    assert student_sizes(PAPER_STEP_SIZES) == (25, 50, 100, 200, 372)
    assert len(state.selected) == 7 and len(set(state.selected)) == 7
    saved = json.loads(open(path).read())
    assert saved['selected'] == state.selected and saved['step'] == 3
    assert saved['errors_step'] == 2

    # stopped after step 1, then resumed from the saved state: the same selection
    calls.clear()
    path2 = str(tmp_path / 'state2.json')
    run_selection(feats, _state(12, (2, 4, 7), lambda_e=1.0), student, path2,
                  stop_after_step=1, log=lambda m: 0)
    assert calls == []
    loaded = SelectionState.load(path2)
    assert loaded.step == 1 and len(loaded.selected) == 2
    resumed = run_selection(feats, loaded, student, path2, log=lambda m: 0)
    assert calls == [(1, 2), (2, 4)]
    assert resumed.selected == state.selected


def test_state_checks_and_step_sizes(tmp_path):
    path = str(tmp_path / 'state.json')
    state = _state(5, (1, 3), seed=2)
    state.save(path)
    assert not any(p.name.startswith('.selection_state') for p in tmp_path.iterdir())
    loaded = SelectionState.load(path)
    assert loaded == state
    with pytest.raises(ValueError, match='seed'):
        _state(5, (1, 3), seed=3).check_matches(loaded)
    assert check_step_sizes([1, 3], 5) == (1, 3)
    for bad in ([3, 3], [0, 2], [], [2, 9]):
        with pytest.raises(ValueError):
            check_step_sizes(bad, 5)
