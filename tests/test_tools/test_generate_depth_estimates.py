"""tools/generate_depth_estimates.py on a tiny synthetic Cityscapes set with a randomly
initialised Monodepth2 network: one file per sample where LoadDepthEstimate reads it,
equal to the model's prediction, resumable, and a clear error for a bad checkpoint."""
import re
import sys

import cv2
import numpy as np
import pytest
import torch

from ..conftest import REPO, load_tool, run_tool

TOOL = 'tools/generate_depth_estimates.py'
HEIGHT, WIDTH = 64, 128
ENV = dict(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')


@pytest.fixture(scope='module')
def tool():
    return load_tool(TOOL)


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """4 train / 1 val frames of 64x128, a config whose train set is a
    SemiSupervisedDataset (labelled = 2 of the train frames, unlabelled = all) and a
    random-init checkpoint."""
    from mmengine.config import Config

    from mmdepthsem.datasets.synthetic import generate_dataset
    from mmdepthsem.datasets.synthetic.cityscapes_format import CityscapesConfig
    from mmdepthsem.utils import register_all_modules
    from mmdepthsem.utils.tool_config import build_model_with_weights

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp('depth_estimates')
    generate_dataset('cityscapes', str(root), seed=0, config=CityscapesConfig(
        height=HEIGHT, width=WIDTH, train_cities=('aachen', ),
        val_cities=('frankfurt', ), train_sequences_per_city=4,
        val_sequences_per_city=1, sequence_offsets=(0, )))
    data_root = root / 'cityscapes'
    images = sorted((data_root / 'leftImg8bit' / 'train').rglob('*_leftImg8bit.png'))
    names = [f'aachen/{p.name[:-len("_leftImg8bit.png")]}' for p in images]
    (data_root / 'labelled.txt').write_text('\n'.join(names[:2]) + '\n')
    base = REPO / 'configs' / '_base_' / 'models' / 'monodepth2_resnet18.py'
    config = root / 'sde_tiny.py'
    config.write_text(f"""
_base_ = [{str(base)!r}]
model = dict(backbone=dict(pretrained=False),
             pose_net=dict(encoder=dict(checkpoint=None)))
dataset = dict(type='CityscapesDepthSemDataset', data_root={str(data_root)!r},
               split='train', with_disparity=False, with_camera=False, pipeline=[])
train_dataloader = dict(batch_size=2, dataset=dict(
    type='SemiSupervisedDataset',
    labelled=dict(dataset, subset_file='labelled.txt'),
    unlabelled=dict(dataset, with_seg=False)))
val_dataloader = dict(batch_size=1, dataset=dict(dataset, split='val'))
""")
    register_all_modules()
    torch.manual_seed(0)
    model = build_model_with_weights(Config.fromfile(str(config)).model)
    checkpoint = root / 'sde.pth'
    torch.save(dict(state_dict=model.state_dict()), str(checkpoint))
    return dict(root=root, config=str(config), checkpoint=str(checkpoint),
                model=model, names=names, images=images)


def _predict(model, image_path):
    """The model's depth for one image, computed here without the tool."""
    image = torch.from_numpy(cv2.imread(str(image_path))).permute(2, 0, 1).float()
    preproc = model.data_preprocessor
    image = (image.flip(0) - preproc.mean) / preproc.std  # BGR -> RGB, normalise
    with torch.no_grad():
        return model.predict(image[None])[0].pred_depth_map.data[0].numpy()


def _read_estimate(out, name, suffix='.png'):
    from mmdepthsem.datasets.transforms.loading import LoadDepthEstimate
    results = LoadDepthEstimate(str(out), suffix=suffix)(
        dict(sample_name=name, ori_shape=(HEIGHT, WIDTH)))
    return results['est_depth_map']


def test_estimates_written_once_equal_to_model_and_resumable(setup, tool, monkeypatch):
    out = setup['root'] / 'est'
    args = [sys.executable, TOOL, setup['config'], setup['checkpoint'],
            '--out-dir', str(out), '--device', 'cpu']
    result = run_tool(args, timeout=120, env=ENV)
    assert 'wrote 4 depth estimates, kept 0' in result.stdout
    # both branches, each sample once (the labelled ones are also unlabelled)
    files = sorted(str(p.relative_to(out))[:-4] for p in out.rglob('*.png'))
    assert files == setup['names']
    png = cv2.imread(str(out / f'{setup["names"][0]}.png'), cv2.IMREAD_UNCHANGED)
    assert png.dtype == np.uint16 and png.shape == (HEIGHT, WIDTH)
    assert not list(out.rglob('*.tmp.*'))

    expected = _predict(setup['model'], setup['images'][0])
    depth = _read_estimate(out, setup['names'][0])
    assert depth.shape == (HEIGHT, WIDTH) and (depth > 0).all()
    np.testing.assert_allclose(depth, expected, atol=1 / 256)

    # a rerun (in-process: no second interpreter start-up) keeps every file
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob('*.png')}
    monkeypatch.chdir(REPO)
    assert tool.main(args[2:]) == (0, 4)
    assert {p: p.stat().st_mtime_ns for p in out.rglob('*.png')} == mtimes


def test_branch_npy_and_scale(setup, tool, monkeypatch):
    monkeypatch.chdir(REPO)
    out = setup['root'] / 'est_npy'
    written, kept = tool.main([
        setup['config'], setup['checkpoint'], '--branch', 'labelled',
        '--out-dir', str(out), '--format', 'npy', '--scale', '96', '64',
        '--device', 'cpu'])
    assert (written, kept) == (2, 0)
    assert sorted(str(p.relative_to(out))[:-4] for p in out.rglob('*.npy')) == \
        setup['names'][:2]
    depth = _read_estimate(out, setup['names'][0], '.npy')
    assert depth.dtype == np.float32 and depth.shape == (HEIGHT, WIDTH)
    assert (depth > 0).all()

    with pytest.raises(SystemExit, match='no branch source'):
        tool.main([setup['config'], setup['checkpoint'], '--branch', 'source',
                   '--out-dir', str(out)])
    with pytest.raises(SystemExit, match='needs a dataset with branches'):
        tool.main([setup['config'], setup['checkpoint'], '--phase', 'val',
                   '--branch', 'labelled', '--out-dir', str(out)])


def test_png_encoding_clips_and_zeroes_invalid(tool):
    depth = np.array([[1.0, 0.0, -2.0], [np.nan, np.inf, 1000.0]], np.float32)
    np.testing.assert_array_equal(tool.depth_to_png(depth),
                                  [[256, 0, 0], [0, 0, 65535]])


def test_normalised_disparity8_is_the_released_form(tool):
    """Depth 1, 2, 4 m -> disparity 1, 0.5, 0.25 -> min-max 1, 1/3, 0 over the
    whole map -> floor(255 n) = 255, 85, 0; invalid pixels 0."""
    depth = np.array([[1.0, 2.0], [4.0, 0.0], [np.nan, 4.0]], np.float32)
    np.testing.assert_array_equal(tool.depth_to_normalised_disparity8(depth),
                                  [[255, 85], [0, 0], [0, 0]])
    assert tool.depth_to_normalised_disparity8(depth).dtype == np.uint8
    flat = np.full((2, 2), 3.0, np.float32)  # one depth value: every pixel 0
    assert not tool.depth_to_normalised_disparity8(flat).any()


def test_sigmoid_disparity16_inverts_disp_to_depth(tool):
    """min 0.125 m, max 100 m: σ = (1/D − 0.01) / 7.99; D = 0.125 -> 1 -> 65535,
    D = 100 -> 0, D = 1 -> 0.99 / 7.99 -> floor(8120.1) = 8120; beyond max_depth
    clipped to 0; invalid 0."""
    depth = np.array([[0.125, 100.0, 1.0], [1000.0, 0.0, np.nan]], np.float32)
    out = tool.depth_to_sigmoid_disparity16(depth, 0.125, 100.0)
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out, [[65535, 0, 8120], [0, 0, 0]])


def test_disparity8_files_read_back_as_the_full_image_disparity(setup, tool,
                                                               monkeypatch):
    from mmdepthsem.datasets.transforms.loading import LoadDepthEstimate
    monkeypatch.chdir(REPO)
    out = setup['root'] / 'est_disp8'
    assert tool.main([setup['config'], setup['checkpoint'], '--branch', 'labelled',
                      '--out-dir', str(out), '--format', 'disparity8',
                      '--device', 'cpu']) == (2, 0)
    png = cv2.imread(str(out / f'{setup["names"][0]}.png'), cv2.IMREAD_UNCHANGED)
    assert png.dtype == np.uint8 and png.min() == 0 and png.max() == 255
    expected = tool.depth_to_normalised_disparity8(
        _predict(setup['model'], setup['images'][0]))
    assert np.abs(png.astype(int) - expected).max() <= 1  # float rounding only
    est = LoadDepthEstimate(str(out), encoding='normalised_disparity')(
        dict(sample_name=setup['names'][0], ori_shape=(HEIGHT, WIDTH)))['est_depth_map']
    np.testing.assert_allclose(1.0 / est[png > 0], png[png > 0] / 255.0, rtol=1e-6)
    assert (1.0 / est[png == 0] <= 1e-6).all()


def test_corrupt_checkpoint_gives_clear_error(setup, tool, tmp_path):
    bad = tmp_path / 'corrupt.pth'
    bad.write_bytes(b'this is not a checkpoint')
    args = [setup['config'], str(bad), '--out-dir', str(tmp_path / 'est'),
            '--device', 'cpu']
    message = re.escape(f'could not load the checkpoint {bad}: not a PyTorch zip')
    with pytest.raises(SystemExit, match=message):
        tool.main(args)
    with pytest.raises(SystemExit, match='does not exist'):
        tool.main([setup['config'], str(tmp_path / 'missing.pth'), *args[2:]])
    assert not (tmp_path / 'est').exists()
