"""Tests of the photometric transforms shared by the image and its frames."""
import numpy as np
import pytest
from mmcv.transforms.utils import cache_random_params

from mmdepthsem.datasets.transforms import ColorJitter, RandomGrayscale
from mmdepthsem.datasets.transforms.photometric import shift_hue
from mmdepthsem.registry import TRANSFORMS


def make_results(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    return dict(img=img, frames={-1: rng.integers(0, 256, (24, 32, 3), dtype=np.uint8),
                                 1: rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)})


def copy_results(results: dict) -> dict:
    return dict(img=results['img'].copy(),
                frames={k: v.copy() for k, v in results['frames'].items()})


def test_color_jitter_same_parameters_for_img_and_frames():
    np.random.seed(0)
    t = ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)
    for seed in range(3):
        src = make_results(seed)
        with cache_random_params(t):
            params = t.sample_params()
            out = t(copy_results(src))
        assert [name for name, _ in params] != [] and len(params) == 4
        np.testing.assert_array_equal(out['img'], t.apply(src['img'], params))
        for fid, frame in src['frames'].items():
            np.testing.assert_array_equal(out['frames'][fid], t.apply(frame, params))
        assert not np.array_equal(out['img'], src['img'])
    # Identical content stays identical after jitter.
    same = dict(img=src['img'].copy(), frames={1: src['img'].copy()})
    out = t(same)
    np.testing.assert_array_equal(out['frames'][1], out['img'])


def test_color_jitter_brightness_is_exact_scaling():
    src = make_results()
    out = ColorJitter(brightness=(1.5, 1.5))(copy_results(src))
    expected = np.clip(src['img'].astype(np.float32) * 1.5, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(out['img'], expected)
    expected = np.clip(src['frames'][1].astype(np.float32) * 1.5, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(out['frames'][1], expected)


def test_color_jitter_saturation_contrast_hue_values():
    src = make_results()
    out = ColorJitter(saturation=(0., 0.))(copy_results(src))
    for im in [out['img'], *out['frames'].values()]:
        assert (np.ptp(im.astype(int), axis=2) <= 1).all()  # grey: channels equal
    out = ColorJitter(contrast=(0., 0.))(copy_results(src))
    for im in [out['img'], *out['frames'].values()]:
        assert np.ptp(im) == 0  # a solid grey image
    blue = np.zeros((2, 2, 3), np.uint8)
    blue[..., 0] = 255
    out = ColorJitter(hue=(0.5, 0.5))(dict(img=blue.copy()))
    # Half a turn: blue (240 deg) -> yellow (60 deg), up to 8-bit hue quantisation.
    np.testing.assert_allclose(out['img'][0, 0], [0, 255, 255], atol=3)
    green = np.zeros((1, 1, 3), np.uint8)
    green[..., 1] = 255
    np.testing.assert_allclose(shift_hue(green, 1 / 3)[0, 0], [255, 0, 0], atol=3)


def test_color_jitter_keep_clean_and_prob():
    src = make_results()
    out = ColorJitter(brightness=(0.5, 0.5), keep_clean=True)(copy_results(src))
    np.testing.assert_array_equal(out['img_clean'], src['img'])
    for fid in src['frames']:
        np.testing.assert_array_equal(out['frames_clean'][fid], src['frames'][fid])
        assert not np.array_equal(out['frames'][fid], src['frames'][fid])
    # A later photometric transform keeps the first clean copies.
    out = RandomGrayscale(prob=1., keep_clean=True)(out)
    np.testing.assert_array_equal(out['img_clean'], src['img'])
    # prob=0: untouched, but clean copies are still provided.
    out = ColorJitter(brightness=0.5, prob=0., keep_clean=True)(copy_results(src))
    np.testing.assert_array_equal(out['img'], src['img'])
    np.testing.assert_array_equal(out['img_clean'], src['img'])
    assert 'img_clean' not in ColorJitter(brightness=0.5)(copy_results(src))


def test_color_jitter_random_order_and_ranges():
    np.random.seed(1)
    t = ColorJitter(brightness=0.2, contrast=0.3, saturation=0.4, hue=0.05)
    orders = {tuple(n for n, _ in t.sample_params()) for _ in range(20)}
    assert len(orders) > 1
    fixed = ColorJitter(brightness=0.2, contrast=0.3, random_order=False)
    for _ in range(20):
        params = dict(fixed.sample_params())
        assert list(params) == ['brightness', 'contrast']
        assert 0.8 <= params['brightness'] <= 1.2 and 0.7 <= params['contrast'] <= 1.3
    assert ColorJitter(brightness=2.).brightness == (0., 3.)
    with pytest.raises(ValueError):
        ColorJitter(hue=0.6)
    with pytest.raises(ValueError):
        ColorJitter(brightness=-1)


def test_random_grayscale_applies_to_all_or_none():
    np.random.seed(0)
    t = RandomGrayscale(prob=0.5)
    decisions = []
    for seed in range(40):
        out = t(make_results(seed))
        grey = [bool((np.ptp(im, axis=2) == 0).all())
                for im in [out['img'], *out['frames'].values()]]
        assert len(set(grey)) == 1
        decisions.append(grey[0])
    assert 5 < sum(decisions) < 35


def test_random_grayscale_values():
    img = np.zeros((1, 3, 3), np.uint8)
    img[0, 0] = (0, 0, 255)  # red in BGR
    img[0, 1] = (255, 0, 0)  # blue
    img[0, 2] = (10, 20, 30)
    out = RandomGrayscale(prob=1.)(dict(img=img.copy(), frames={1: img.copy()}))
    expected = np.rint(img.astype(np.float64) @ [0.114, 0.587, 0.299])
    np.testing.assert_array_equal(out['img'][..., 0], expected.astype(np.uint8))
    assert out['img'].shape == (1, 3, 3) and (np.ptp(out['img'], axis=2) == 0).all()
    np.testing.assert_array_equal(out['frames'][1], out['img'])
    flat = RandomGrayscale(prob=1., keep_channels=False)(dict(img=img.copy()))
    assert flat['img'].shape == (1, 3)
    out = RandomGrayscale(prob=0.)(dict(img=img.copy()))
    np.testing.assert_array_equal(out['img'], img)


def test_registry_and_repr():
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmdepthsem'):
        assert isinstance(TRANSFORMS.build(dict(type='ColorJitter', brightness=0.2)),
                          ColorJitter)
        assert isinstance(TRANSFORMS.build(dict(type='RandomGrayscale')), RandomGrayscale)
        pmd = TRANSFORMS.build(dict(type='PhotoMetricDistortion'))
        assert type(pmd).__module__.startswith('mmseg')
    r = repr(ColorJitter(brightness=0.2, hue=0.1, keep_clean=True))
    assert r == ('ColorJitter(brightness=(0.8, 1.2), contrast=None, saturation=None, '
                 'hue=(-0.1, 0.1), prob=1.0, random_order=True, keep_clean=True)')
    assert repr(RandomGrayscale(prob=0.2)) == (
        "RandomGrayscale(prob=0.2, keep_channels=True, "
        "channel_weights=(0.114, 0.587, 0.299), color_format='bgr', keep_clean=False)")
