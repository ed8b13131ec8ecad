"""DepthSemLocalVisualizer and the colour-map functions."""
import itertools

import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData

from mmdepthsem.registry import VISUALIZERS
from mmdepthsem.structures.depth_sem_data_sample import DepthSemDataSample
from mmdepthsem.visualization import (DepthSemLocalVisualizer, colorize_depth,
                                      overlay_sem_seg)
from mmdepthsem.visualization.colormap import colormap_lut, resize_nearest

H, W = 6, 8
PALETTE = [[255, 0, 0], [0, 255, 0], [0, 0, 255]]
META = dict(classes=('r', 'g', 'b'), palette=PALETTE)
_names = itertools.count()


def make_visualizer(**kwargs):
    # Visualizers are named singletons (ManagerMixin): give each test its own name.
    kwargs.setdefault('draw_titles', False)
    vis = DepthSemLocalVisualizer(name=f'vis_test_{next(_names)}', **kwargs)
    vis.dataset_meta = META
    return vis


def make_image():
    return np.random.RandomState(0).randint(0, 256, (H, W, 3)).astype(np.uint8)


def make_sample(fields=('pred_depth_map', 'gt_depth_map', 'pred_sem_seg', 'gt_sem_seg')):
    data_sample = DepthSemDataSample(metainfo=dict(img_path='x.png'))
    gt_depth = torch.linspace(1, 5, H * W).reshape(1, H, W)
    gt_depth[0, 0, :4] = 0  # invalid
    gt_depth[0, 0, 4] = 1.0  # valid range exactly 1..5 m
    values = {
        'pred_depth_map': torch.full((1, H, W), 3.0),
        'gt_depth_map': gt_depth,
        'pred_sem_seg': torch.arange(H * W).reshape(1, H, W) % 3,
        'gt_sem_seg': torch.full((1, H, W), 1, dtype=torch.long),
    }
    values['gt_sem_seg'][0, :, 0] = 255
    for key in fields:
        setattr(data_sample, key, PixelData(data=values[key]))
    return data_sample


def panels(drawn, n):
    assert drawn.shape == (H, n * W, 3)
    return [drawn[:, i * W:(i + 1) * W] for i in range(n)]


def test_registered():
    vis = VISUALIZERS.build(dict(type='DepthSemLocalVisualizer', name='vis_registry'))
    assert isinstance(vis, DepthSemLocalVisualizer)


def test_writes_one_png_with_five_panels(tmp_path):
    vis = make_visualizer()
    image = make_image()
    out = tmp_path / 'sub' / 'x.png'
    drawn = vis.add_datasample('x', image, make_sample(), out_file=str(out))
    written = cv2.imread(str(out))[..., ::-1]
    np.testing.assert_array_equal(written, drawn)
    image_panel, pred_depth, gt_depth, pred_seg, gt_seg = panels(drawn, 5)
    np.testing.assert_array_equal(image_panel, image)
    # gt valid range is 1..5 m; both depth panels use it.
    lut = colormap_lut('turbo')
    np.testing.assert_array_equal(gt_depth[0, :4], 0)  # invalid -> black
    assert (gt_depth[0, 4:] != 0).any(axis=-1).all()
    assert (gt_depth[1:] != 0).any(axis=-1).all()
    np.testing.assert_array_equal(gt_depth[-1, -1], lut[255])  # 5 m
    np.testing.assert_array_equal(pred_depth, np.broadcast_to(lut[128], (H, W, 3)))  # 3 m
    # overlays: round(0.5 * image + 0.5 * palette), ignore keeps the image
    expected = np.round(0.5 * image[2, 3] + 0.5 * np.array(PALETTE[1])).astype(np.uint8)
    np.testing.assert_array_equal(gt_seg[2, 3], expected)
    np.testing.assert_array_equal(gt_seg[:, 0], image[:, 0])
    label = (2 * W + 5) % 3
    expected = np.round(0.5 * image[2, 5] + 0.5 * np.array(PALETTE[label]))
    expected = expected.astype(np.uint8)
    np.testing.assert_array_equal(pred_seg[2, 5], expected)


@pytest.mark.parametrize('fields, draw_gt, draw_pred, n', [
    (('pred_depth_map', 'pred_sem_seg'), True, True, 3),
    (('gt_depth_map', 'gt_sem_seg'), True, True, 3),
    (('pred_depth_map', 'gt_depth_map'), True, True, 3),
    (('pred_depth_map', 'gt_depth_map', 'pred_sem_seg', 'gt_sem_seg'), False, True, 3),
    (('pred_depth_map', 'gt_depth_map', 'pred_sem_seg', 'gt_sem_seg'), True, False, 3),
    (('pred_sem_seg', ), True, True, 2),
    ((), True, True, 1),
])
def test_panels_follow_the_fields(tmp_path, fields, draw_gt, draw_pred, n):
    drawn = make_visualizer().add_datasample(
        'x', make_image(), make_sample(fields), draw_gt=draw_gt, draw_pred=draw_pred,
        out_file=str(tmp_path / 'x.png'))
    assert drawn.shape == (H, n * W, 3)


def test_overlay_uses_dataset_palette_at_full_opacity(tmp_path):
    vis = make_visualizer(alpha=1.0)
    drawn = vis.add_datasample('x', make_image(), make_sample(('pred_sem_seg', )),
                               out_file=str(tmp_path / 'x.png'))
    seg = panels(drawn, 2)[1]
    labels = make_sample(('pred_sem_seg', )).pred_sem_seg.data[0].numpy()
    np.testing.assert_array_equal(seg, np.asarray(PALETTE, dtype=np.uint8)[labels])


def test_fixed_depth_range_and_titles(tmp_path):
    vis = make_visualizer(depth_range=(0.0, 6.0), draw_titles=True, title_height=16)
    drawn = vis.add_datasample('x', make_image(), make_sample(('pred_depth_map', )),
                               out_file=str(tmp_path / 'x.png'))
    assert drawn.shape == (16 + H, 2 * W, 3)
    np.testing.assert_array_equal(drawn[16:, W:], np.broadcast_to(
        colormap_lut('turbo')[128], (H, W, 3)))  # 3 m is mid-range of 0..6 m
    strip = drawn[:16]
    assert (strip == 32).mean() > 0.5 and (strip > 128).any()  # grey strip, white text


def test_fields_of_another_size_are_resized_to_the_image(tmp_path):
    data_sample = DepthSemDataSample()
    data_sample.gt_sem_seg = PixelData(data=torch.tensor([[[0, 1], [2, 255]]]))
    drawn = make_visualizer(alpha=1.0).add_datasample('x', make_image(), data_sample,
                                                      out_file=str(tmp_path / 'x.png'))
    seg = panels(drawn, 2)[1]
    np.testing.assert_array_equal(seg[0, 0], PALETTE[0])
    np.testing.assert_array_equal(seg[0, -1], PALETTE[1])
    np.testing.assert_array_equal(seg[-1, 0], PALETTE[2])


def test_backend_receives_picture_without_out_file(tmp_path):
    vis = make_visualizer(vis_backends=[dict(type='LocalVisBackend')],
                          save_dir=str(tmp_path))
    vis.add_datasample('val_x.png', make_image(), make_sample(), step=7)
    written = list((tmp_path / 'vis_data' / 'vis_image').glob('*.png'))
    assert [p.name for p in written] == ['val_x.png_7.png']
    assert cv2.imread(str(written[0])).shape == (H, 5 * W, 3)


def test_colorize_depth_by_hand():
    lut = colormap_lut('magma')
    depth = np.array([[0.0, 1.0, 1.5, 2.0, 9.0, np.nan, -1.0]])
    out = colorize_depth(depth, vmin=1.0, vmax=2.0, cmap='magma', invalid_color=(7, 8, 9))
    assert out.dtype == np.uint8 and out.shape == (1, 7, 3)
    expected = [(7, 8, 9), lut[0], lut[128], lut[255], lut[255], (7, 8, 9), (7, 8, 9)]
    np.testing.assert_array_equal(out[0], np.array(expected, dtype=np.uint8))
    # Default range: the valid min/max; torch (1, H, W) input accepted.
    auto = colorize_depth(torch.tensor([[[0.0, 2.0, 4.0]]]))
    np.testing.assert_array_equal(auto[0], [[0, 0, 0], *colormap_lut('turbo')[[0, 255]]])
    with pytest.raises(ValueError, match='colour map'):
        colorize_depth(depth, cmap='no_such_map')


def test_overlay_and_resize_helpers():
    image = np.full((1, 3, 3), 100, dtype=np.uint8)
    out = overlay_sem_seg(image, np.array([[0, 255, 7]]), [[200, 0, 50]], alpha=0.25)
    np.testing.assert_array_equal(out[0], [[125, 75, 88], [100, 100, 100],
                                           [100, 100, 100]])
    np.testing.assert_array_equal(
        resize_nearest(np.array([[1, 2], [3, 4]]), (4, 4)),
        [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]])
