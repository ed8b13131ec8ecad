"""DepthSemInferencer and tools/infer.py on the demo model (untrained, seeded) and a
few small random images: the files written, their agreement with each other and with
the in-memory predictions, array inputs, missing inputs and videos."""
import sys

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmdepthsem.apis import DepthSemInferencer
from mmdepthsem.registry import MODELS
from mmdepthsem.utils import register_all_modules

from ..conftest import DEMO_CONFIG, run_tool

pytestmark = pytest.mark.slow

SUFFIXES = ('_depth.png', '_depth.npy', '_depth_color.png', '_sem.png', '_overlay.png')
NAMES = ('frame_a', 'frame_b', 'frame_c')
PNG_MAX_DEPTH = 65.535  # metres: the largest depth a uint16 millimetre PNG holds


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """A checkpoint of the seeded, untrained demo model and a folder of 3 images."""
    root = tmp_path_factory.mktemp('infer')
    register_all_modules()
    cfg = Config.fromfile(str(DEMO_CONFIG))
    if 'pretrained' in cfg.model.backbone:
        cfg.model.backbone.pretrained = False
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    checkpoint = root / 'demo.pth'
    # The layout mmengine's CheckpointHook writes (plain dicts/lists in meta pass
    # the weights-only allow-list).
    torch.save({'state_dict': model.state_dict(),
                'meta': {'seed': 0, 'dataset_meta': {
                    'classes': [f'class{i}' for i in range(40)],
                    'palette': [[(37 * i) % 256, (91 * i) % 256, (53 * i) % 256]
                                for i in range(40)]}}}, checkpoint)
    images = root / 'images'
    images.mkdir()
    rng = np.random.RandomState(0)
    for name in NAMES:
        # Smooth random pictures (random noise upsampled) so the model sees structure.
        small = rng.randint(0, 256, (8, 12, 3), dtype=np.uint8)
        image = cv2.resize(small, (96, 64), interpolation=cv2.INTER_LINEAR)
        assert cv2.imwrite(str(images / f'{name}.png'), image)
    inferencer = DepthSemInferencer(str(DEMO_CONFIG), str(checkpoint), device='cpu',
                                    show_progress=False)
    return dict(root=root, checkpoint=checkpoint, images=images,
                inferencer=inferencer)


@pytest.fixture(scope='module')
def cli_out(setup):
    """tools/infer.py run once on the image folder (batches of 2)."""
    out = setup['root'] / 'cli_out'
    result = run_tool([sys.executable, 'tools/infer.py', str(DEMO_CONFIG),
                       str(setup['checkpoint']), str(setup['images']), '--out-dir',
                       str(out), '--device', 'cpu', '--batch-size', '2'], timeout=300)
    return out, result.stdout


def test_cli_writes_five_files_per_image(cli_out):
    out, stdout = cli_out
    assert f'3 input(s) to {out}' in stdout
    expected = {name + suffix for name in NAMES for suffix in SUFFIXES}
    assert {p.name for p in out.iterdir()} == expected
    for name in NAMES:
        assert cv2.imread(str(out / f'{name}_depth.png'),
                          cv2.IMREAD_UNCHANGED).dtype == np.uint16
        assert cv2.imread(str(out / f'{name}_sem.png'),
                          cv2.IMREAD_UNCHANGED).dtype == np.uint8
        for picture in ('_depth_color.png', '_overlay.png'):
            assert cv2.imread(str(out / f'{name}{picture}')).shape == (64, 96, 3)


def test_depth_png_matches_npy_and_memory(setup, cli_out):
    out, _ = cli_out
    inferencer = setup['inferencer']
    for name in NAMES:
        npy = np.load(out / f'{name}_depth.npy')
        assert npy.dtype == np.float32 and npy.shape == (64, 96)
        png = cv2.imread(str(out / f'{name}_depth.png'),
                         cv2.IMREAD_UNCHANGED).astype(np.float64) / 1000.0
        in_range = npy < PNG_MAX_DEPTH
        assert in_range.any()
        # Rounding to whole millimetres: at most half a millimetre off.
        assert np.abs(png[in_range] - npy[in_range]).max() <= 0.001
        assert np.all(png[~in_range] == PNG_MAX_DEPTH)

        memory = inferencer(str(setup['images'] / f'{name}.png'))['predictions'][0]
        assert memory['name'] == name
        np.testing.assert_allclose(memory['depth'], npy, rtol=0, atol=1e-5)
        sem = cv2.imread(str(out / f'{name}_sem.png'), cv2.IMREAD_UNCHANGED)
        assert memory['sem_seg'].shape == (64, 96)
        # Batching (CLI: 2 per batch) may move logits by float noise; labels agree
        # everywhere but on near-ties.
        assert (sem == memory['sem_seg']).mean() > 0.99


def test_array_input_matches_file_input(setup):
    inferencer = setup['inferencer']
    path = setup['images'] / f'{NAMES[1]}.png'
    array = cv2.imread(str(path))
    from_file = inferencer(str(path))['predictions'][0]
    from_array, = inferencer([array], return_vis=True)['predictions']
    assert from_array['name'] == 'array_000000'
    np.testing.assert_allclose(from_array['depth'], from_file['depth'], rtol=0,
                               atol=1e-6)
    np.testing.assert_array_equal(from_array['sem_seg'], from_file['sem_seg'])
    # return_vis gives the visualiser's panel picture (image | depth | seg).
    picture, = inferencer(array, return_vis=True)['visualization']
    assert picture.dtype == np.uint8 and picture.shape[1] == 3 * 96


def test_missing_input_is_named(setup, tmp_path):
    missing = tmp_path / 'no_such_image.png'
    with pytest.raises(FileNotFoundError, match='no_such_image.png'):
        setup['inferencer'](str(missing))
    result = run_tool([sys.executable, 'tools/infer.py', str(DEMO_CONFIG),
                       str(setup['checkpoint']), str(missing), '--out-dir',
                       str(tmp_path / 'out')], check=False, timeout=120)
    assert result.returncode != 0
    assert str(missing) in result.stderr
    assert not (tmp_path / 'out').exists()


def test_video_frames_are_predicted(setup, tmp_path):
    video = tmp_path / 'clip.avi'
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*'MJPG'), 5.0,
                             (96, 64))
    if not writer.isOpened():
        pytest.skip('OpenCV here cannot write MJPG .avi videos (no codec)')
    frames = [cv2.imread(str(setup['images'] / f'{name}.png')) for name in NAMES]
    for frame in frames:
        writer.write(frame)
    writer.release()
    capture = cv2.VideoCapture(str(video))
    decoded = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        decoded.append(frame)
    capture.release()
    if len(decoded) != 3:
        pytest.skip(f'OpenCV wrote an MJPG .avi it reads back as {len(decoded)} '
                    'frames')

    out = tmp_path / 'out'
    result = setup['inferencer'](str(video), batch_size=2, out_dir=str(out),
                                 save_pictures=False)
    names = [p['name'] for p in result['predictions']]
    assert names == ['clip_000000', 'clip_000001', 'clip_000002']
    assert {p.name for p in out.iterdir()} == {
        f'{name}{suffix}' for name in names
        for suffix in ('_depth.png', '_depth.npy', '_sem.png')}
    # Each frame's prediction is the prediction of the decoded frame as an array.
    for prediction, frame in zip(result['predictions'], decoded):
        expected = setup['inferencer'](frame)['predictions'][0]
        np.testing.assert_allclose(prediction['depth'], expected['depth'], rtol=0,
                                   atol=1e-5)
