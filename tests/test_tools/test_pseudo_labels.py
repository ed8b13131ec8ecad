"""tools/generate_pseudo_labels.py with a real (small) mmseg segmentor as teacher:
files where the datasets look for them, resumable, equal to the online teacher."""
import sys

import cv2
import numpy as np
import pytest
import torch

from mmdepthsem.datasets.transforms import LoadImageFromFile
from mmdepthsem.registry import MODELS
from mmdepthsem.utils import register_all_modules

from ..conftest import DEMO_CONFIG, run_tool, small_demo_options

pytestmark = pytest.mark.slow

TEACHER = """
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[127.5, 127.5, 127.5],
                           std=[64.0, 64.0, 64.0], bgr_to_rgb=True),
    backbone=dict(type='ResNetV1c', depth=18, num_stages=4, out_indices=(0, ),
                  norm_cfg=norm_cfg, contract_dilation=True),
    decode_head=dict(type='FCNHead', in_channels=64, in_index=0, channels=16,
                     num_convs=1, concat_input=False, num_classes=6,
                     norm_cfg=norm_cfg, align_corners=False,
                     loss_decode=dict(type='CrossEntropyLoss')),
    test_cfg=dict(mode='whole'))
"""


@pytest.fixture(scope='module')
def teacher(tmp_path_factory):
    register_all_modules()
    root = tmp_path_factory.mktemp('teacher')
    config = root / 'tiny_teacher.py'
    config.write_text(TEACHER)
    torch.manual_seed(0)
    model = MODELS.build(dict(type='SegTeacher', model=str(config)))
    for module in model.modules():  # non-trivial BN statistics
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    with torch.no_grad():  # decisive logits, so float rounding cannot flip argmax
        model.model.decode_head.conv_seg.weight.mul_(20.0)
    checkpoint = root / 'teacher.pth'
    torch.save({'state_dict': model.model.state_dict()}, checkpoint)
    return config, checkpoint


def test_offline_labels_are_written_resumably_and_equal_online_ones(
        teacher, synthetic_nyu, tmp_path):
    config, checkpoint = teacher
    out = tmp_path / 'pseudo'
    args = [sys.executable, 'tools/generate_pseudo_labels.py', str(config),
            str(checkpoint), '--data-config', str(DEMO_CONFIG), '--phase', 'test',
            '--out-dir', str(out), '--with-conf', '--device', 'cpu',
            '--cfg-options', *small_demo_options(synthetic_nyu)]
    result = run_tool(args)
    names = (synthetic_nyu / 'test.txt').read_text().split()
    assert f'wrote {len(names)} pseudo-label maps, kept 0' in result.stdout
    assert sorted(p.stem for p in out.glob('*[0-9].png')) == sorted(names)
    # resumable: a second run keeps every file
    assert f'wrote 0 pseudo-label maps, kept {len(names)}' in run_tool(args).stdout

    # the online teacher, fed the student's normalisation, gives the same labels
    online = MODELS.build(dict(type='SegTeacher', model=str(config),
                               checkpoint=str(checkpoint)))
    student_mean = torch.tensor([123.675, 116.28, 103.53]).view(3, 1, 1)
    student_std = torch.tensor([58.395, 57.12, 57.375]).view(3, 1, 1)
    for name in names:
        image_path = synthetic_nyu / 'images' / f'{name}.png'
        results = LoadImageFromFile()(dict(img_path=str(image_path)))
        rgb = torch.from_numpy(results['img'][..., ::-1].copy()).permute(2, 0, 1)
        student_input = ((rgb.float() - student_mean) / student_std)[None]
        labels, conf = online(student_input, None, student_mean, student_std)
        offline = cv2.imread(str(out / f'{name}.png'), cv2.IMREAD_UNCHANGED)
        offline_conf = cv2.imread(str(out / f'{name}_conf.png'),
                                  cv2.IMREAD_UNCHANGED) / 65535
        agree = (labels[0].numpy() == offline).mean()
        assert agree > 0.999, (name, agree)
        assert np.abs(conf[0].numpy() - offline_conf).max() < 1e-3
        assert len(np.unique(offline)) > 1  # the teacher is not constant


def test_teacher_weights_are_loaded_and_frozen(teacher):
    config, checkpoint = teacher
    loaded = MODELS.build(dict(type='SegTeacher', model=str(config),
                               checkpoint=str(checkpoint)))
    saved = torch.load(checkpoint, weights_only=True)['state_dict']
    for key, value in loaded.model.state_dict().items():
        assert torch.equal(value, saved[key]), key
    assert all(not p.requires_grad for p in loaded.parameters())
    loaded.train()
    assert not loaded.training and not loaded.model.training
