"""Uncropped pose-net views (SDE-Seg's source SDE recipe, `provide_uncropped_for_pose`;
docs/sdeseg.md SSDA table S11): the pipeline keeps the resized frames before the crop,
flips and jitters them with the image, and the estimator predicts poses from them."""
import numpy as np
import pytest
import torch
from mmcv.transforms import Compose

from mmdepthsem.utils import register_all_modules

from .test_self_supervised_estimator import build, run_loss, sample, texture

register_all_modules()


def results(h=24, w=40, seed=0):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    frames = {-1: rng.integers(0, 255, (h, w, 3), dtype=np.uint8),
              1: rng.integers(0, 255, (h, w, 3), dtype=np.uint8)}
    K = np.array([[30.0, 0, w / 2], [0, 30.0, h / 2], [0, 0, 1]], np.float32)
    return dict(img=img, frames=frames, frame_ids=(-1, 1), img_shape=(h, w),
                ori_shape=(h, w), intrinsics=K, img_path='x.png')


def window_of(small, big):
    """Top-left corners where ``small`` equals a window of ``big``."""
    h, w = small.shape[:2]
    return [(x, y) for y in range(big.shape[0] - h + 1)
            for x in range(big.shape[1] - w + 1)
            if np.array_equal(big[y:y + h, x:x + w], small)]


@pytest.mark.parametrize('flip_prob', [0.0, 1.0])
def test_crop_leaves_the_pose_views_and_flip_moves_them(flip_prob):
    np.random.seed(3)
    pipeline = Compose([dict(type='Resize', scale=(48, 32), keep_ratio=False),
                        dict(type='KeepUncroppedPoseViews'),
                        dict(type='RandomCrop', crop_size=(16, 20)),
                        dict(type='RandomFlip', prob=flip_prob)])
    out = pipeline(results())
    assert out['img'].shape == (16, 20, 3)
    assert out['pose_img'].shape == out['pose_frames'][1].shape == (32, 48, 3)
    # the crop is one window of the pose view, at the same place in every frame
    (x0, y0), = window_of(out['img'], out['pose_img'])
    for fid in (-1, 1):
        assert window_of(out['frames'][fid], out['pose_frames'][fid]) == [(x0, y0)]
    assert bool(out['flip']) == (flip_prob == 1.0)


def test_colour_jitter_treats_the_pose_views_as_the_image():
    np.random.seed(0)
    pipeline = Compose([dict(type='KeepUncroppedPoseViews'),
                        dict(type='ColorJitter', brightness=0.4, contrast=0.4,
                             saturation=0.4, hue=0.2, prob=1.0, keep_clean=True)])
    before = results()
    original = before['img'].copy()
    out = pipeline(before)
    assert not np.array_equal(out['img'], original)
    np.testing.assert_array_equal(out['pose_img'], out['img'])
    for fid in (-1, 1):
        np.testing.assert_array_equal(out['pose_frames'][fid], out['frames'][fid])
    np.testing.assert_array_equal(out['img_clean'], original)  # clean stays clean


def test_packing_and_missing_inputs():
    out = Compose([dict(type='KeepUncroppedPoseViews'),
                   dict(type='RandomCrop', crop_size=(16, 20)),
                   dict(type='PackDepthSemInputs')])(results())
    sample_ = out['data_samples']
    assert out['inputs'].shape == (3, 16, 20)
    assert sample_.pose_img.shape == (3, 24, 40)
    assert sample_.pose_frames.shape == (2, 3, 24, 40)
    bare = results()
    del bare['frames']
    with pytest.raises(KeyError, match='needs `img` and `frames`.*x.png'):
        Compose([dict(type='KeepUncroppedPoseViews')])(bare)


def test_estimator_predicts_poses_from_the_pose_views():
    model = build(scales=(0, ))
    seen = []
    real = model.pose_net.target_to_source

    def spy(target, source, frame_id):
        seen.append((tuple(target.shape), tuple(source.shape)))
        return real(target, source, frame_id)

    model.pose_net.target_to_source = spy
    plain = sample()
    run_loss(model, [plain])
    assert seen[-1] == ((1, 3, 64, 96), (1, 3, 64, 96))  # the (cropped) inputs
    def wide():
        s = sample()
        s.pose_img = torch.cat([texture(), texture(40)], dim=-1)  # 64 x 192
        s.pose_frames = torch.stack([torch.cat([texture(d), texture(40 + d)], -1)
                                     for d in (-2, 2)])
        return s

    losses = run_loss(model, [wide()])
    assert seen[-1] == ((1, 3, 64, 192), (1, 3, 64, 192))
    assert torch.isfinite(losses['loss_photometric'])
    # normalised like the inputs, without padding
    data = model.data_preprocessor(dict(inputs=[texture()], data_samples=[sample()]),
                                   training=True)
    pose = model.data_preprocessor(dict(inputs=[texture()], data_samples=[wide()]),
                                   training=True)['data_samples'][0]
    assert pose.pose_img.shape == (3, 64, 192)
    np.testing.assert_allclose(pose.pose_img[..., :96].numpy(),
                               data['inputs'][0].numpy(), rtol=1e-6, atol=1e-5)
