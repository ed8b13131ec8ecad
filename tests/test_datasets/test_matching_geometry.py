"""Matching Geometry Sampling: geometric difference (eq. 22) and argmin (eq. 23)."""
import math

import numpy as np
import pytest

from mmdepthsem.datasets.gta5 import GTA5DepthSemDataset
from mmdepthsem.datasets.matching_geometry import (MatchingGeometrySourceDataset,
                                                   excluded_rows, geometric_distance,
                                                   matching_log_disparity,
                                                   read_depth_estimate)
from mmdepthsem.datasets.synthetic import TINY_CONFIGS, generate_dataset
from mmdepthsem.datasets.synthia import SynthiaDepthSemDataset
from mmdepthsem.datasets.transforms.loading import DataFileError
from mmdepthsem.utils import register_all_modules

register_all_modules()
KEPT = 512 - 80 - 100  # rows compared on a 512-row map


def test_excluded_rows_scale_with_the_height():
    assert excluded_rows(512) == (80, 100)
    assert excluded_rows(256) == (40, 50)
    assert excluded_rows(64) == (10, 13)  # 12.5 rounds up
    assert excluded_rows(1024) == (160, 200)
    with pytest.raises(ValueError, match='leaves no row'):
        excluded_rows(100, exclude_top=300, exclude_bottom=250)


def test_differences_inside_the_excluded_rows_do_not_count():
    depth_i = np.full((512, 4), 2.0, np.float32)
    depth_j = depth_i.copy()
    depth_j[:80] = 50.0
    depth_j[412:] = 0.3
    assert geometric_distance(depth_i, depth_j) == 0.0
    depth_j[80] = 8.0  # the first kept row: normalised 4 instead of 1
    expected = (math.log(2.0) - math.log(1.25)) / KEPT
    assert geometric_distance(depth_i, depth_j) == pytest.approx(expected, rel=1e-6)
    depth_j[80] = 2.0
    depth_j[411] = 8.0  # the last kept row
    assert geometric_distance(depth_i, depth_j) == pytest.approx(expected, rel=1e-6)


def test_by_hand_without_normalisation():
    depth_i = np.full((512, 3), 2.0)
    depth_j = np.full((512, 3), 4.0)
    expected = math.log(1.5) - math.log(1.25)
    assert geometric_distance(depth_i, depth_j, scale_i=1.0, scale_j=1.0) == \
        pytest.approx(expected)
    # median normalisation: a scaled copy is at distance 0
    assert geometric_distance(depth_i, depth_j) == 0.0
    ramp = np.linspace(1.0, 60.0, 512 * 6).reshape(512, 6)
    assert geometric_distance(ramp, 3.7 * ramp) == pytest.approx(0.0, abs=1e-6)
    assert geometric_distance(ramp, ramp[::-1].copy()) > 0.1


def test_other_sizes_are_resized_to_the_target_first():
    rng = np.random.default_rng(0)
    target = rng.uniform(1, 50, (64, 8))
    source = np.kron(target, np.ones((2, 2))) * 0.6  # 128 x 16, another scale
    assert geometric_distance(target, source) == pytest.approx(0.0, abs=1e-6)
    # the rows excluded on 64 rows are 10 and 13
    assert matching_log_disparity(target).shape == (64 - 23, 8)


def test_invalid_depth_is_left_out_or_an_error():
    depth_i = np.full((512, 2), 3.0)
    depth_j = depth_i.copy()
    depth_j[200, 0] = 0.0
    depth_j[201, 0] = np.nan
    depth_j[202, 0] = -1.0
    depth_i[300, 1] = np.inf
    assert geometric_distance(depth_i, depth_j) == 0.0
    with pytest.raises(ValueError, match='no valid'):
        geometric_distance(depth_i, np.zeros((512, 2)))
    with pytest.raises(ValueError, match=r'\(H, W\)'):
        geometric_distance(np.ones((512, 2, 1)), depth_j)


class _Domain:
    """A minimal dataset: sample names, depth maps as ``.npy`` files in ``folder``."""

    def __init__(self, folder, maps):
        folder.mkdir(parents=True, exist_ok=True)
        self.names = []
        for i, depth in enumerate(maps):
            np.save(folder / f's{i}.npy', np.asarray(depth, np.float32))
            self.names.append(f's{i}')
        self.metainfo = dict(classes=('a', 'b'))

    def full_init(self):
        pass

    def __len__(self):
        return len(self.names)

    def get_data_info(self, idx):
        return dict(sample_name=self.names[idx])

    def __getitem__(self, idx):
        return dict(name=self.names[idx])


def _street(height=64, width=8, horizon=0.4, camera=1.0):
    """Depth of a flat road below a horizon row, sky (far) above."""
    rows = np.arange(height, dtype=np.float64)[:, None] - horizon * height + 0.5
    depth = np.where(rows > 0, camera * height / np.maximum(rows, 1e-6), 200.0)
    return np.repeat(np.minimum(depth, 200.0), width, axis=1)


def _wrapper(tmp_path, target_maps, source_maps, **kwargs):
    target = _Domain(tmp_path / 'target', target_maps)
    source = _Domain(tmp_path / 'source', source_maps)
    kwargs.setdefault('match_size', (8, 64))
    return MatchingGeometrySourceDataset(
        source=source,
        target=target,
        target_estimate_dir=str(tmp_path / 'target'),
        source_estimate_dir=str(tmp_path / 'source'),
        target_estimate_suffix='.npy',
        source_estimate_suffix='.npy',
        **kwargs)


def test_match_picks_the_argmin_among_the_candidates(tmp_path):
    target = _street(horizon=0.4)
    sources = [
        _street(horizon=0.1),  # camera pitched up: far from the target
        np.full((64, 8), 3.0),  # in front of a wall
        2.5 * _street(horizon=0.4),  # the target geometry at another SDE scale
        _street(horizon=0.45, camera=1.3),  # close
    ]
    dataset = _wrapper(tmp_path, [target], sources)
    assert dataset.target_depth_path(0) == str(tmp_path / 'target' / 's0.npy')
    np.testing.assert_array_equal(dataset.load_depth('target', 0),
                                  target.astype(np.float32))
    result = dataset.match(0, candidates=[0, 1, 2, 3])
    assert result.source_index == 2 and result.distances[2] == pytest.approx(0, abs=1e-6)
    assert int(np.argmin(result.distances)) == 2
    expected = [geometric_distance(target, s) for s in sources]
    np.testing.assert_allclose(result.distances, expected, rtol=1e-5, atol=1e-6)
    assert dataset.match(0, candidates=[0, 1, 3]).source_index == 3
    assert dataset.match(0, candidates=[1, 0]).source_index == [1, 0][int(
        np.argmin([expected[1], expected[0]]))]


def test_candidates_are_seeded_distinct_and_redrawn(tmp_path):
    maps = [_street(horizon=0.3 + 0.01 * i) for i in range(20)]
    first = _wrapper(tmp_path / 'a', maps[:2], maps, seed=3, num_candidates=5)
    second = _wrapper(tmp_path / 'b', maps[:2], maps, seed=3, num_candidates=5)
    draws = [first.draw_candidates(1) for _ in range(3)]
    assert draws == [second.draw_candidates(1) for _ in range(3)]
    assert all(len(set(d)) == 5 and all(0 <= c < 20 for c in d) for d in draws)
    assert draws[0] != draws[1]
    other_seed = _wrapper(tmp_path / 'c', maps[:2], maps, seed=4)
    assert other_seed.draw_candidates(1) != draws[0]
    assert len(first) == 2
    # __getitem__ returns the matched source sample
    sample = first[0]
    assert sample['name'] in {f's{i}' for i in range(20)}
    assert len(_wrapper(tmp_path / 'd', maps[:1], maps[:3]).draw_candidates(0)) == 3


def test_candidates_with_replacement_as_the_release(tmp_path):
    """S7: independent draws; with 2 source samples and 5 candidates, repeats are
    certain (distinct draws would stop at 2)."""
    maps = [_street(horizon=0.3), _street(horizon=0.5)]
    dataset = _wrapper(tmp_path, maps[:1], maps, num_candidates=5,
                       candidates_with_replacement=True)
    draws = [dataset.draw_candidates(0) for _ in range(4)]
    assert all(len(d) == 5 and set(d) <= {0, 1} for d in draws)
    assert len(_wrapper(tmp_path / 'b', maps[:1], maps,
                        num_candidates=5).draw_candidates(0)) == 2
    assert dataset.match(0).source_index in (0, 1)


def test_domain_normalisation_keeps_per_image_scale(tmp_path):
    target = _street()
    sources = [2.0 * _street(), 6.0 * _street(), 2.0 * _street(), 2.0 * _street()]
    by_image = _wrapper(tmp_path / 'i', [target], sources)
    assert by_image.match(0, [0, 1]).distances == pytest.approx([0, 0], abs=1e-6)
    by_domain = _wrapper(tmp_path / 'd', [target], sources, normalise='domain')
    distances = by_domain.match(0, [0, 1]).distances
    assert distances[0] == pytest.approx(0, abs=1e-6) and distances[1] > 0.05


def test_cache_and_errors(tmp_path):
    maps = [_street(horizon=0.3 + 0.02 * i) for i in range(4)]
    dataset = _wrapper(tmp_path, maps[:1], maps, cache_size=2)
    dataset.match(0, [0, 1, 2, 3])
    assert len(dataset._cache) == 2
    bad = _wrapper(tmp_path / 'bad', maps[:1], [np.zeros((64, 8))])
    with pytest.raises(DataFileError, match=r's0\.npy.*no valid'):
        bad.match(0, [0])
    no_dir = MatchingGeometrySourceDataset(
        source=_Domain(tmp_path / 's', maps), target=_Domain(tmp_path / 't', maps))
    with pytest.raises(KeyError, match='target_estimate_dir'):
        no_dir.match(0, [0])
    with pytest.raises(ValueError, match='num_candidates'):
        _wrapper(tmp_path / 'x', maps, maps, num_candidates=0)


def test_real_datasets_with_estimate_paths(tmp_path):
    for name in ('gta5', 'synthia'):
        generate_dataset(name, tmp_path, seed=0, config=TINY_CONFIGS[name])
    source = GTA5DepthSemDataset(
        data_root=str(tmp_path / 'gta5'),
        depth_estimate_dir='sde_depth',
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='PackDepthSemInputs')])
    # Synthia plays the target here; its estimates come from depth_estimate_path
    target = SynthiaDepthSemDataset(
        data_root=str(tmp_path / 'synthia'), depth_estimate_dir='sde_depth')
    dataset = MatchingGeometrySourceDataset(source, target, match_size=(64, 32))
    assert dataset.target_depth_path(2).endswith('synthia/sde_depth/0000002.png')
    depth = read_depth_estimate(dataset.target_depth_path(2))
    assert depth.shape == (32, 54) and depth.min() > 0
    packed = dataset[2]
    meta = packed['data_samples'].metainfo
    assert meta['matched_target_index'] == 2 and meta['geometric_distance'] >= 0
    assert len(dataset) == 4 and dataset.metainfo['classes'][0] == 'road'
    pair = MatchingGeometrySourceDataset(
        source, target, match_size=(64, 32), return_pair=True)[1]
    assert set(pair) == {'target', 'source'}


def _crop_pipeline(crop, estimate_dir):
    return [dict(type='LoadImageFromFile'),
            dict(type='LoadDepthEstimate', estimate_dir=estimate_dir),
            dict(type='Resize', scale=(64, 32), keep_ratio=False),
            dict(type='RandomCrop', crop_size=crop),
            dict(type='RandomFlip', prob=0.5),
            dict(type='PackDepthSemInputs')]


def _crop_datasets(tmp_path, crop=(32, 32)):
    for name in ('gta5', 'synthia'):
        generate_dataset(name, tmp_path, seed=0, config=TINY_CONFIGS[name])
    source = GTA5DepthSemDataset(data_root=str(tmp_path / 'gta5'),
                                 depth_estimate_dir='sde_depth',
                                 pipeline=_crop_pipeline(
                                     crop, str(tmp_path / 'gta5' / 'sde_depth')))
    target = SynthiaDepthSemDataset(data_root=str(tmp_path / 'synthia'),
                                    depth_estimate_dir='sde_depth',
                                    pipeline=_crop_pipeline(
                                        crop, str(tmp_path / 'synthia' / 'sde_depth')))
    return source, target


def _est(packed):
    return packed['data_samples'].est_depth_map.data[0].numpy()


def test_training_crop_matching_compares_the_crops_it_returns(tmp_path):
    """S7, the release's rule: the processed target sample (its crop and flip) is
    compared with each candidate *as the source pipeline processed it*, rows
    scaled from 80 / 100 of 512, and that very candidate sample is returned."""
    source, target = _crop_datasets(tmp_path)
    dataset = MatchingGeometrySourceDataset(
        source, target, match_on='training_crop', normalise='none',
        num_candidates=5, candidates_with_replacement=True, seed=1)
    np.random.seed(0)
    target_packed = target[1]
    # replay the same candidate draws and source fetches by hand
    replay = MatchingGeometrySourceDataset(
        source, target, match_on='training_crop', normalise='none',
        num_candidates=5, candidates_with_replacement=True, seed=1)
    candidates = replay.draw_candidates(1)
    state = np.random.get_state()
    fetched = [source[c] for c in candidates]
    a = matching_log_disparity(_est(target_packed), None, scale=1.0)
    assert a.shape == (32 - 5 - 6, 32)  # 80 * 32/512 = 5, 100 * 32/512 = 6.25 -> 6
    distances = [float(np.nanmean(np.abs(a - matching_log_disparity(
        _est(f), None, scale=1.0)))) for f in fetched]
    np.random.set_state(state)
    chosen = dataset.match_to_sample(1, target_packed)
    best = int(np.argmin(distances))
    np.testing.assert_array_equal(_est(chosen), _est(fetched[best]))
    meta = chosen['data_samples'].metainfo
    assert meta['matched_target_index'] == 1
    assert meta['geometric_distance'] == pytest.approx(distances[best], rel=1e-5)


def test_semi_supervised_dataset_matches_on_the_unlabelled_crop(tmp_path):
    from mmdepthsem.datasets import SemiSupervisedDataset
    source, target = _crop_datasets(tmp_path)
    calls = []
    matching = MatchingGeometrySourceDataset(source, target, match_on='training_crop')
    real = matching.match_to_sample

    def spy(index, packed):
        calls.append((index, packed))
        return real(index, packed)

    matching.match_to_sample = spy
    semi = SemiSupervisedDataset(labelled=target, unlabelled=target, source=matching,
                                 source_matched=True)
    item = semi[2]
    assert len(calls) == 1 and calls[0][0] == 2
    assert calls[0][1] is item['unlabelled']  # the very crop the batch trains on
    assert item['source']['data_samples'].metainfo['matched_target_index'] == 2


def test_training_crop_matching_errors(tmp_path):
    source, target = _crop_datasets(tmp_path)
    with pytest.raises(ValueError, match='match_on must be one of'):
        MatchingGeometrySourceDataset(source, target, match_on='crop')
    bare = GTA5DepthSemDataset(data_root=str(tmp_path / 'gta5'), pipeline=[
        dict(type='LoadImageFromFile'), dict(type='PackDepthSemInputs')])
    dataset = MatchingGeometrySourceDataset(bare, target, match_on='training_crop')
    with pytest.raises(KeyError, match='source sample .* no `est_depth_map`.*'
                                       'LoadDepthEstimate'):
        dataset.match_to_sample(0, target[0])
    # standalone indexing processes the target itself
    pair = MatchingGeometrySourceDataset(source, target, match_on='training_crop',
                                         return_pair=True)[0]
    assert _est(pair['target']).shape == _est(pair['source']).shape == (32, 32)
