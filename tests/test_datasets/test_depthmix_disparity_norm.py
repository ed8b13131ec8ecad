"""DepthMix on SDE-Seg's released pre-computed estimates (docs/sdeseg.md, row 4).

The release stores each image's disparity min–max normalised over the whole image
(8 bits) and compares the crops' stored values, ``disp_i >= disp_j - ε``, without
normalising them again; the per-crop normalisation stays the default of
``closer_mask`` (what the online depth does in both codes).
"""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmdepthsem.datasets.transforms import DepthMix
from mmdepthsem.datasets.transforms.loading import LoadDepthEstimate
from mmdepthsem.datasets.transforms.mixing.depth_mix import closer_mask

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def as_depth(disparity):
    return 1.0 / torch.tensor(disparity, dtype=torch.float32)


def test_stored_disparity_is_compared_as_it_is():
    """n_i = (0.5, 0.2, 0.9), n_j = (0.52, 0.3, 0.1), ε = 0.03:
    as stored 0.5 >= 0.49, 0.2 < 0.27, 0.9 >= 0.07 -> (T, F, T);
    re-normalised per map, n_i -> (3/7, 0, 1), n_j -> (1, 10/21, 0) -> (F, F, T)."""
    d_i, d_j = as_depth([[0.5, 0.2, 0.9]]), as_depth([[0.52, 0.3, 0.1]])
    stored = closer_mask(d_i, d_j, 0.03, 'disparity', disparity_norm='none')
    assert stored.tolist() == [[True, False, True]]
    per_map = closer_mask(d_i, d_j, 0.03, 'disparity')
    assert per_map.tolist() == [[False, False, True]]


def test_a_crop_of_stored_disparity_keeps_the_full_image_mask():
    """Normalised over the full image, then cropped: the crop's mask is the crop of
    the full mask with 'none'; re-normalising the crop moves it (here: the crop's
    own range of n_j is 0.6 .. 0.9 instead of 0 .. 0.9)."""
    n_i = torch.tensor([[0.0, 0.1, 0.62, 0.70, 1.0]])
    n_j = torch.tensor([[0.9, 0.6, 0.6, 0.9, 0.0]])
    full = closer_mask(1 / n_i.clamp_min(1e-6), 1 / n_j.clamp_min(1e-6), 0.03,
                       disparity_norm='none')
    crop = slice(1, 4)
    cropped = closer_mask(1 / n_i[:, crop], 1 / n_j[:, crop], 0.03,
                          disparity_norm='none')
    assert torch.equal(cropped, full[:, crop])
    assert cropped.tolist() == [[False, True, False]]
    renormalised = closer_mask(1 / n_i[:, crop], 1 / n_j[:, crop], 0.03)
    assert renormalised.tolist() == [[True, True, True]]


def test_loading_the_released_8bit_file(tmp_path):
    stored = np.array([[255, 85], [0, 51]], np.uint8)
    cv2.imwrite(str(tmp_path / 'a.png'), stored)
    load = LoadDepthEstimate(str(tmp_path), encoding='normalised_disparity')
    est = load(dict(sample_name='a', ori_shape=(2, 2)))['est_depth_map']
    assert est.dtype == np.float32
    np.testing.assert_allclose(est, [[1.0, 3.0], [1e6, 5.0]], rtol=1e-6)
    # the default encoding refuses 8-bit depth, naming the file
    with pytest.raises(Exception, match='a.png'):
        LoadDepthEstimate(str(tmp_path))(dict(sample_name='a', ori_shape=(2, 2)))
    with pytest.raises(ValueError, match='encoding'):
        LoadDepthEstimate(str(tmp_path), encoding='disparity')
    with pytest.raises(ValueError, match='suffix'):
        LoadDepthEstimate(str(tmp_path), suffix='.npy', encoding='normalised_disparity')
    assert "encoding='normalised_disparity'" in repr(load)


def test_depthmix_option_and_configs():
    assert DepthMix(disparity_norm='none').disparity_norm == 'none'
    with pytest.raises(ValueError, match='disparity_norm'):
        DepthMix(disparity_norm='global')
    for name in ('ssl_depthmix_resnet101_cityscapes.py', 'ssl_ours_resnet101_camvid.py'):
        cfg = Config.fromfile(osp.join(REPO, 'configs/sdeseg', name))
        assert cfg.model.mix.disparity_norm == 'none'
        assert cfg.model.mix.epsilon == 0.03
        for branch in ('labelled', 'unlabelled'):
            loads = [t for t in cfg.train_dataloader.dataset[branch].pipeline
                     if t.type == 'LoadDepthEstimate']
            assert [t.encoding for t in loads] == ['normalised_disparity']
    # the online rows keep the per-crop normalisation (the release's online depth)
    ours = Config.fromfile(osp.join(REPO, 'configs/sdeseg/ssl_ours_resnet101_cityscapes.py'))
    assert ours.model.mix.get('disparity_norm', 'per_image') == 'per_image'


def test_matching_geometry_reads_stored_disparities(tmp_path):
    """A 16-bit stored disparity n reads back as 1 / n; with normalise='none' eq. 22
    then compares log(1 + n), the release's log(1 + disparity) of its files."""
    from mmdepthsem.datasets.matching_geometry import (
        MatchingGeometrySourceDataset, geometric_distance, read_depth_estimate)
    cv2.imwrite(str(tmp_path / 't.png'), np.full((512, 4), 65535, np.uint16))
    cv2.imwrite(str(tmp_path / 's.png'), np.full((512, 4), 13107, np.uint16))  # 0.2
    target = read_depth_estimate(str(tmp_path / 't.png'),
                                 encoding='normalised_disparity')
    source = read_depth_estimate(str(tmp_path / 's.png'),
                                 encoding='normalised_disparity')
    np.testing.assert_allclose(target, 1.0)
    np.testing.assert_allclose(source, 5.0, rtol=1e-6)
    distance = geometric_distance(target, source, scale_i=1.0, scale_j=1.0)
    assert distance == pytest.approx(abs(np.log(2.0) - np.log(1.2)), rel=1e-5)
    with pytest.raises(ValueError, match='estimate_encoding'):
        MatchingGeometrySourceDataset(source=None, target=None,
                                      estimate_encoding='disparity')
