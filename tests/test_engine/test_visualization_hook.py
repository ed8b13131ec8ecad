"""DepthSemVisualizationHook with a runner stand-in exposing what the hook reads."""
import itertools
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData

from mmdepthsem.engine.hooks import DepthSemVisualizationHook
from mmdepthsem.registry import HOOKS
from mmdepthsem.structures.depth_sem_data_sample import DepthSemDataSample
from mmdepthsem.visualization import DepthSemLocalVisualizer

H, W = 6, 8
_names = itertools.count()


def make_runner(tmp_path, **vis_kwargs):
    visualizer = DepthSemLocalVisualizer(name=f'hook_test_{next(_names)}',
                                         draw_titles=False, **vis_kwargs)
    visualizer.dataset_meta = dict(classes=('a', 'b'), palette=[[255, 0, 0], [0, 0, 255]])
    return SimpleNamespace(visualizer=visualizer, work_dir=str(tmp_path / 'work'),
                           timestamp='20240101_000000', iter=3)


def write_image(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((H, W, 3), value, dtype=np.uint8))
    return str(path)


def make_output(img_path, with_gt=True):
    data_sample = DepthSemDataSample(metainfo=dict(img_path=img_path))
    data_sample.pred_depth_map = PixelData(data=torch.full((1, H, W), 2.0))
    data_sample.pred_sem_seg = PixelData(data=torch.zeros(1, H, W, dtype=torch.long))
    if with_gt:
        data_sample.gt_depth_map = PixelData(data=torch.full((1, H, W), 2.5))
        data_sample.gt_sem_seg = PixelData(data=torch.ones(1, H, W, dtype=torch.long))
    return data_sample


def pngs(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob('*.png'))


def test_registered():
    hook = HOOKS.build(dict(type='DepthSemVisualizationHook', draw=True))
    assert isinstance(hook, DepthSemVisualizationHook)


def test_test_mode_writes_one_png_per_image_under_work_dir(tmp_path):
    runner = make_runner(tmp_path)
    paths = [write_image(tmp_path / 'imgs' / f'{n}.png', 10 * i)
             for i, n in enumerate('ab')]
    outputs = [make_output(paths[0]), make_output(paths[1], with_gt=False)]
    hook = DepthSemVisualizationHook(draw=True, interval=50, test_out_dir='vis')
    hook.after_test_iter(runner, 0, dict(inputs=None), outputs)
    out_dir = tmp_path / 'work' / '20240101_000000' / 'vis'
    assert pngs(out_dir) == ['a.png', 'b.png']
    a = cv2.imread(str(out_dir / 'a.png'))
    b = cv2.imread(str(out_dir / 'b.png'))
    assert a.shape == (H, 5 * W, 3)  # image, pred depth, gt depth, pred seg, gt seg
    assert b.shape == (H, 3 * W, 3)  # image, pred depth, pred seg
    np.testing.assert_array_equal(a[:, :W], 0)  # the image panel is the image
    np.testing.assert_array_equal(b[:, :W], 10)


def test_absolute_test_out_dir_and_keep_dirs(tmp_path):
    runner = make_runner(tmp_path)
    paths = [write_image(tmp_path / 'imgs' / d / 'data' / 'x.png', 0) for d in 'pq']
    out_dir = tmp_path / 'show'
    hook = DepthSemVisualizationHook(draw=True, test_out_dir=str(out_dir), keep_dirs=2)
    hook.after_test_iter(runner, 0, {}, [make_output(p) for p in paths])
    assert pngs(out_dir) == ['p/data/x.png', 'q/data/x.png']


def test_repeated_names_get_suffixes_with_a_warning(tmp_path):
    runner = make_runner(tmp_path)
    paths = [write_image(tmp_path / d / 'x.png', 0) for d in 'pq']
    hook = DepthSemVisualizationHook(draw=True, test_out_dir=str(tmp_path / 'show'))
    with pytest.warns(UserWarning, match='keep_dirs'):
        hook.after_test_iter(runner, 0, {}, [make_output(p) for p in paths])
    assert pngs(tmp_path / 'show') == ['x.png', 'x_1.png']


def test_val_mode_draws_every_interval_th_batch_to_backends(tmp_path):
    runner = make_runner(tmp_path, vis_backends=[dict(type='LocalVisBackend')],
                         save_dir=str(tmp_path / 'log'))
    path = write_image(tmp_path / 'imgs' / 'a.png', 0)
    hook = DepthSemVisualizationHook(draw=True, interval=2, test_out_dir='unused')
    for batch_idx in range(4):
        runner.iter = batch_idx
        hook.after_val_iter(runner, batch_idx, {}, [make_output(path)])
    assert pngs(tmp_path / 'log') == ['vis_data/vis_image/val_a.png_1.png',
                                      'vis_data/vis_image/val_a.png_3.png']
    assert not (tmp_path / 'work').exists()  # test_out_dir is for testing only


def test_test_mode_without_out_dir_uses_backends_every_interval(tmp_path):
    runner = make_runner(tmp_path, vis_backends=[dict(type='LocalVisBackend')],
                         save_dir=str(tmp_path / 'log'))
    path = write_image(tmp_path / 'imgs' / 'a.png', 0)
    hook = DepthSemVisualizationHook(draw=True, interval=3)
    for batch_idx in range(3):
        hook.after_test_iter(runner, batch_idx, {}, [make_output(path)])
    assert pngs(tmp_path / 'log') == ['vis_data/vis_image/test_a.png_3.png']


def test_draw_false_and_train_mode_draw_nothing(tmp_path):
    runner = make_runner(tmp_path)
    path = write_image(tmp_path / 'imgs' / 'a.png', 0)
    with pytest.warns(UserWarning, match='draws nothing'):
        off = DepthSemVisualizationHook(draw=False, test_out_dir='vis')
    off.after_test_iter(runner, 0, {}, [make_output(path)])
    on = DepthSemVisualizationHook(draw=True, interval=1, test_out_dir='vis')
    on.after_train_iter(runner, 0, {}, dict(loss=torch.tensor(0.0)))
    assert not (tmp_path / 'work').exists()


def test_missing_image_falls_back_to_batch_inputs(tmp_path):
    runner = make_runner(tmp_path)
    # Network input at half resolution, BGR: blue channel 200.
    inputs = [torch.zeros(3, H // 2, W // 2, dtype=torch.uint8)]
    inputs[0][0] = 200
    hook = DepthSemVisualizationHook(draw=True, test_out_dir='vis')
    with pytest.warns(UserWarning, match='network input'):
        hook.after_test_iter(runner, 0, dict(inputs=inputs),
                             [make_output(str(tmp_path / 'gone.png'))])
    drawn = cv2.imread(str(tmp_path / 'work' / '20240101_000000' / 'vis' / 'gone.png'))
    assert drawn.shape == (H, 5 * W, 3)
    np.testing.assert_array_equal(drawn[:, :W], np.broadcast_to([200, 0, 0], (H, W, 3)))
