"""Tests of PackDepthSemInputs: shapes, dtypes, values, frame order and metainfo."""
import numpy as np
import pytest
import torch

from mmdepthsem.datasets.transforms import PackDepthSemInputs
from mmdepthsem.structures import DepthSemDataSample

H, W = 6, 8


def make_results() -> dict:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    frames = {1: img // 2, -1: img // 3}  # insertion order differs from frame_ids
    return dict(
        img=img,
        img_path='a.png', seg_map_path='a_seg.png', ori_shape=(H, W), img_shape=(H, W),
        scale_factor=(1., 1.), flip=False, flip_direction=None, depth_scale=1000.,
        frame_ids=(0, -1, 1), frames=frames,
        frames_clean={k: v + 1 for k, v in frames.items()}, img_clean=img + 1,
        gt_seg_map=rng.integers(0, 19, (H, W)).astype(np.uint8),
        gt_pseudo_seg_map=rng.integers(0, 19, (H, W)).astype(np.uint8),
        gt_pseudo_conf=rng.random((H, W)).astype(np.float32),
        gt_depth_map=rng.uniform(0, 10, (H, W)).astype(np.float32),
        gt_disparity_map=rng.uniform(0, 50, (H, W)).astype(np.float32),
        gt_fg_mask=rng.integers(0, 2, (H, W)).astype(np.uint8),
        intrinsics=np.array([[5., 0., 3.5], [0., 5., 2.5], [0., 0., 1.]]),
        points=np.array([[1., 2.], [3.5, 4.]]),
        unrelated_key='not packed')


def test_pack_shapes_dtypes_values():
    results = make_results()
    packed = PackDepthSemInputs()(results)
    inputs, sample = packed['inputs'], packed['data_samples']
    assert isinstance(sample, DepthSemDataSample)
    assert inputs.shape == (3, H, W) and inputs.dtype == torch.uint8
    np.testing.assert_array_equal(inputs.permute(1, 2, 0).numpy(), results['img'])
    fields = dict(gt_sem_seg=('gt_seg_map', torch.int64),
                  gt_pseudo_sem_seg=('gt_pseudo_seg_map', torch.int64),
                  gt_pseudo_conf=('gt_pseudo_conf', torch.float32),
                  gt_depth_map=('gt_depth_map', torch.float32),
                  gt_disparity_map=('gt_disparity_map', torch.float32),
                  gt_fg_mask=('gt_fg_mask', torch.uint8))
    for field, (key, dtype) in fields.items():
        data = getattr(sample, field).data
        assert data.shape == (1, H, W) and data.dtype == dtype, field
        np.testing.assert_array_equal(data[0].numpy(), results[key])
    assert sample.intrinsics.dtype == torch.float32 and sample.intrinsics.shape == (3, 3)
    np.testing.assert_allclose(sample.intrinsics.numpy(), results['intrinsics'])
    assert sample.points.dtype == torch.float32 and sample.points.shape == (2, 2)
    np.testing.assert_allclose(sample.points.numpy(), results['points'])
    assert sample.img_clean.shape == (3, H, W) and sample.img_clean.dtype == torch.uint8
    np.testing.assert_array_equal(sample.img_clean.permute(1, 2, 0).numpy(),
                                  results['img_clean'])


def test_pack_frames_follow_frame_ids():
    results = make_results()
    sample = PackDepthSemInputs()(results)['data_samples']
    assert sample.frame_ids == (-1, 1)  # target id 0 is not in `frames`
    assert sample.frames.shape == (2, 3, H, W) and sample.frames.dtype == torch.uint8
    assert sample.frames_clean.shape == (2, 3, H, W)
    for t, fid in enumerate(sample.frame_ids):
        np.testing.assert_array_equal(sample.frames[t].permute(1, 2, 0).numpy(),
                                      results['frames'][fid])
        np.testing.assert_array_equal(sample.frames_clean[t].permute(1, 2, 0).numpy(),
                                      results['frames_clean'][fid])
    bad = make_results()
    bad['frame_ids'] = (0, -1, 2)
    with pytest.raises(KeyError, match='frame_ids'):
        PackDepthSemInputs()(bad)


def test_pack_metainfo():
    sample = PackDepthSemInputs()(make_results())['data_samples']
    meta = sample.metainfo
    assert meta['img_path'] == 'a.png' and meta['ori_shape'] == (H, W)
    assert meta['img_shape'] == (H, W) and meta['flip'] is False
    assert meta['scale_factor'] == (1., 1.) and meta['depth_scale'] == 1000.
    assert 'unrelated_key' not in meta and 'gt_depth_map' not in meta
    custom = PackDepthSemInputs(meta_keys=('img_path', ))(make_results())['data_samples']
    assert set(custom.metainfo) == {'img_path', 'frame_ids'}


def test_pack_minimal_and_errors():
    packed = PackDepthSemInputs()(dict(img=np.zeros((H, W, 3), np.uint8)))
    sample = packed['data_samples']
    assert 'gt_depth_map' not in sample and 'frames' not in sample
    bad = dict(img=np.zeros((H, W, 3), np.uint8), img_path='x.png',
               gt_depth_map=np.zeros((H + 1, W), np.float32))
    with pytest.raises(ValueError, match='gt_depth_map'):
        PackDepthSemInputs()(bad)


def test_repr():
    assert repr(PackDepthSemInputs(meta_keys=('img_path', 'frame_ids'))) == (
        "PackDepthSemInputs(meta_keys=('img_path', 'frame_ids'))")
