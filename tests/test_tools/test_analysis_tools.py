"""The analysis tools: benchmark, analyze_logs, print_config, confusion_matrix and
depth_error_map, and the error-map colouring they use (no speed assertions)."""
import json
import sys

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmdepthsem.evaluation.functional import compute_depth_metrics
from mmdepthsem.evaluation.metrics import IoUMetric
from mmdepthsem.registry import MODELS
from mmdepthsem.utils import register_all_modules
from mmdepthsem.utils.tool_config import load_tool_config
from mmdepthsem.visualization.colormap import colormap_lut
from mmdepthsem.visualization.error_map import abs_rel_error, abs_rel_error_map

from ..conftest import DEMO_CONFIG, load_tool, run_tool

TEST_OPTIONS = ['test_dataloader.num_workers=0',
                'test_dataloader.persistent_workers=False',
                'test_dataloader.dataset.image_size=[96,64]']


def _test_options(data_root):
    return [f'test_dataloader.dataset.data_root={data_root}', *TEST_OPTIONS]


def _parsed_config(tool, options):
    """The demo config with ``options`` parsed as the tool's command line does."""
    args = tool.parse_args([str(DEMO_CONFIG), 'unused.pth', '--out-dir', 'unused',
                            '--cfg-options', *options])
    return load_tool_config(str(DEMO_CONFIG), args.cfg_options)


@pytest.fixture(scope='module')
def demo_checkpoint(tmp_path_factory):
    """A checkpoint of the seeded, untrained demo model ({'state_dict', 'meta'})."""
    register_all_modules()
    cfg = Config.fromfile(str(DEMO_CONFIG))
    cfg.model.backbone.pretrained = False
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    path = tmp_path_factory.mktemp('analysis') / 'demo.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {'seed': 0}}, path)
    return path


# ---------------------------------------------------------------- error map


def test_abs_rel_error_map_on_a_hand_made_example():
    pred = np.array([[2.0, 2.5], [4.0, 1.0]])
    gt = np.array([[2.0, 2.0], [2.0, 0.0]])  # errors 0, 0.25, 1.0, invalid
    lut = colormap_lut('turbo')
    out = abs_rel_error_map(pred, gt, max_rel=0.5)
    assert out.shape == (2, 2, 3) and out.dtype == np.uint8
    assert (out[0, 0] == lut[0]).all()            # zero error: the low colour
    assert (out[0, 1] == lut[128]).all()          # 0.25 of 0.5: the middle
    assert (out[1, 0] == lut[255]).all()          # >= max_rel: the top colour
    assert (out[1, 1] == 0).all()                 # invalid ground truth: black
    # a mask excludes pixels too, and tensors (1, H, W) are accepted
    masked = abs_rel_error_map(torch.tensor(pred)[None], torch.tensor(gt)[None],
                               valid=np.array([[False, True], [True, True]]))
    assert (masked[0, 0] == 0).all() and (masked[0, 1] == lut[128]).all()
    error, mask = abs_rel_error(pred, gt)
    assert mask.tolist() == [[True, True], [True, False]]
    assert np.allclose(error[mask], [0.0, 0.25, 1.0])
    with pytest.raises(ValueError, match='max_rel'):
        abs_rel_error_map(pred, gt, max_rel=0)


# ---------------------------------------------------------------- benchmark


@pytest.mark.slow
def test_benchmark_runs_and_reports_fps_and_ms():
    result = run_tool([sys.executable, 'tools/analysis_tools/benchmark.py',
                       str(DEMO_CONFIG), '--num-iters', '2', '--warmup', '1',
                       '--repeat', '2', '--shape', '64', '96',
                       '--cfg-options', 'model.backbone.pretrained=False'],
                      timeout=300)
    out = result.stdout
    assert 'FPS:' in out and 'ms/image:' in out and '(median; min' in out
    assert out.count('  run ') == 2
    assert 'random (3, 64, 96)' in out


def test_benchmark_default_shape_is_the_padded_test_size():
    tool = load_tool('tools/analysis_tools/benchmark.py')
    cfg = Config.fromfile(str(DEMO_CONFIG))
    assert tool.default_test_shape(cfg) == (128, 160)  # 120 x 160 padded to 32
    stats = tool.summarise([0.5, 0.25, 0.1])
    assert stats['ms_median'] == 250 and stats['fps_median'] == 4
    assert stats['ms_min'] == 100 and stats['fps_max'] == 10


# ---------------------------------------------------------------- analyze_logs


def _write_scalars(path):
    lines = [
        dict(lr=1e-3, data_time=0.01, loss=2.0, **{'depth.loss_silog': 1.5},
             time=0.9, iter=1, step=1),
        dict(lr=1e-3, data_time=0.01, loss=1.5, **{'depth.loss_silog': 1.2},
             time=0.5, iter=2, step=2),
        dict(lr=5e-4, data_time=0.02, loss=1.0, **{'depth.loss_silog': 0.8},
             time=0.7, iter=4, step=4),
        {'depth/abs_rel': 0.3, 'mIoU': 12.5, 'data_time': 0.01, 'time': 0.05,
         'step': 4},
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('\n'.join(json.dumps(line) for line in lines) + '\n')
    return path


def test_plot_curve_writes_a_png_and_names_a_missing_key(tmp_path, capsys):
    tool = load_tool('tools/analysis_tools/analyze_logs.py')
    log = _write_scalars(tmp_path / 'work' / '20240101_000000' / 'vis_data' /
                         'scalars.json')
    records = tool.load_scalars(str(log))
    assert tool.curve(records, 'loss') == ([1.0, 2.0, 4.0], [2.0, 1.5, 1.0])
    assert tool.curve(records, 'depth/abs_rel') == ([4.0], [0.3])

    out = tmp_path / 'fig.png'
    tool.main(['plot_curve', str(log), '--keys', 'loss', 'depth.loss_silog',
               'depth/abs_rel', '--out', str(out), '--legend', 'a', 'b', 'c'])
    image = cv2.imread(str(out))
    assert image is not None and image.ndim == 3 and min(image.shape[:2]) > 100
    # a work dir works as well as the file
    tool.main(['plot_curve', str(tmp_path / 'work'), '--out', str(tmp_path / 'd.png')])
    assert cv2.imread(str(tmp_path / 'd.png')) is not None

    with pytest.raises(SystemExit, match="'loss_nope' is in no line") as err:
        tool.main(['plot_curve', str(log), '--keys', 'loss', 'loss_nope',
                   '--out', str(tmp_path / 'x.png')])
    assert 'depth.loss_silog' in str(err.value)  # the keys it does have
    with pytest.raises(SystemExit, match='--legend needs 2'):
        tool.main(['plot_curve', str(log), '--keys', 'loss', 'mIoU', '--legend', 'a',
                   '--out', str(tmp_path / 'y.png')])

    capsys.readouterr()
    tool.main(['cal_train_time', str(log)])
    text = capsys.readouterr().out
    assert 'average iter time: 0.6000 s/iter' in text  # first interval left out
    assert 'slowest logged interval: 0.7000' in text


def test_epoch_based_validation_lines_sit_at_the_end_of_their_epoch():
    tool = load_tool('tools/analysis_tools/analyze_logs.py')
    records = [dict(loss=1.0, epoch=1, iter=10, step=10),
               dict(loss=0.9, epoch=1, iter=20, step=20),
               dict(loss=0.8, epoch=2, iter=30, step=30),
               dict(mIoU=5.0, step=1)]
    assert tool.curve(records, 'mIoU') == ([20.0], [5.0])


# ---------------------------------------------------------------- print_config


def test_print_config_merges_bases_and_overrides(tmp_path, capsys):
    (tmp_path / 'base.py').write_text(
        "only_in_base = 'from-the-base'\nmodel = dict(depth=3, width=8)\n")
    (tmp_path / 'child.py').write_text(
        "_base_ = ['./base.py']\nmodel = dict(width=16)\n")
    tool = load_tool('tools/analysis_tools/print_config.py')
    tool.main([str(tmp_path / 'child.py'), '--cfg-options', 'model.depth=42',
               '--save-path', str(tmp_path / 'merged.py')])
    out = capsys.readouterr().out
    assert "only_in_base = 'from-the-base'" in out
    assert 'depth=42' in out and 'width=16' in out
    merged = Config.fromfile(str(tmp_path / 'merged.py'))
    assert merged.model.depth == 42 and merged.only_in_base == 'from-the-base'


# ---------------------------------------------------------------- confusion matrix


@pytest.mark.slow
def test_confusion_matrix_agrees_with_iou_metric(synthetic_nyu, demo_checkpoint,
                                                 tmp_path, capsys):
    tool = load_tool('tools/analysis_tools/confusion_matrix.py')
    out_dir = tmp_path / 'confusion'
    matrix = tool.main([str(DEMO_CONFIG), str(demo_checkpoint), '--out-dir',
                        str(out_dir), '--normalize', '--cfg-options',
                        *_test_options(synthetic_nyu)])
    printed = capsys.readouterr().out
    saved = np.load(out_dir / 'confusion_matrix.npy')
    assert saved.shape == (40, 40) and (saved == matrix).all()
    assert cv2.imread(str(out_dir / 'confusion_matrix.png')) is not None

    # the same predictions through the project's IoUMetric
    cfg = _parsed_config(tool, _test_options(synthetic_nyu))
    model = tool.build_model(cfg, str(demo_checkpoint))
    loader = Runner.build_dataloader(cfg.test_dataloader)
    metric = IoUMetric()
    metric.dataset_meta = loader.dataset.metainfo
    labelled = 0
    for batch, samples in tool.predict_test_set(model, loader):
        for sample in samples:
            gt = sample.gt_sem_seg.data
            labelled += int(((gt != 255) & (gt >= 0) & (gt < 40)).sum())
        metric.process(batch, [s.to_dict() for s in samples])
    intersect, union, pred_area, label_area = (sum(r) for r in zip(*metric.results))

    assert matrix.sum() == labelled > 0
    assert np.array_equal(np.diag(matrix), intersect.numpy().astype(np.int64))
    assert np.array_equal(matrix.sum(1), label_area.numpy().astype(np.int64))
    assert np.array_equal(matrix.sum(0), pred_area.numpy().astype(np.int64))
    iou = tool.iou_from_confusion(matrix)
    with np.errstate(divide='ignore', invalid='ignore'):
        expected = (intersect / union).numpy()
    assert np.allclose(iou, expected, equal_nan=True)
    miou = metric.compute_metrics(metric.results)['mIoU']
    assert f'mIoU: {miou:.2f}' in printed
    assert len(np.unique(matrix.nonzero()[1])) > 1  # not a vacuous comparison


def test_update_confusion_ignores_255_and_counts_out_of_range():
    tool = load_tool('tools/analysis_tools/confusion_matrix.py')
    matrix = np.zeros((3, 3), dtype=np.int64)
    gt = torch.tensor([[0, 1, 255], [2, 7, 1]])
    pred = torch.tensor([[0, 2, 1], [2, 0, 1]])
    assert tool.update_confusion(matrix, pred, gt) == 1  # the 7
    assert matrix.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    assert np.allclose(tool.iou_from_confusion(matrix), [1.0, 0.5, 0.5])


# ---------------------------------------------------------------- depth error maps


@pytest.mark.slow
def test_depth_error_map_pictures_match_the_depth_metric(synthetic_nyu,
                                                         demo_checkpoint, tmp_path):
    tool = load_tool('tools/analysis_tools/depth_error_map.py')
    out_dir = tmp_path / 'errors'
    options = [*_test_options(synthetic_nyu), 'test_evaluator.0.median_scaling=True']
    rows = tool.main([str(DEMO_CONFIG), str(demo_checkpoint), '--out-dir',
                      str(out_dir), '--max-rel', '0.3', '--cfg-options', *options])
    assert len(rows) == 4
    lines = (out_dir / 'abs_rel.csv').read_text().splitlines()
    assert lines[0] == 'name,abs_rel,pixels,median_ratio' and len(lines) == 5

    cfg = _parsed_config(tool, options)
    settings = tool.depth_metric_settings(cfg)
    assert settings['crop'] == 'nyu_eigen' and settings['median_scaling']
    model = tool.build_model(cfg, str(demo_checkpoint))
    loader = Runner.build_dataloader(cfg.test_dataloader)
    expected = []
    with torch.no_grad():
        for batch in loader:
            for sample in model.test_step(batch):
                expected.append(compute_depth_metrics(
                    sample.pred_depth_map.data, sample.gt_depth_map.data,
                    settings['min_depth'], settings['max_depth'], settings['crop'],
                    median_scaling=True)['abs_rel'])
    assert np.allclose([r['abs_rel'] for r in rows], expected, rtol=1e-9)
    assert all(r['ratio'] is not None and r['ratio'] > 0 for r in rows)

    picture = cv2.imread(rows[0]['path'])[..., ::-1]
    assert picture.shape[1] == 4 * 96 + 3 * 2 and picture.shape[0] > 64
    error_panel = picture[-64:, -96:]
    assert (error_panel[0, 0] == 0).all()  # outside the Eigen crop: black
    inside = error_panel[32, 48]
    assert not (inside == 0).all()
