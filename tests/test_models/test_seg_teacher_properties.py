"""The online teacher's guarantees (specs/dss.md, "Teacher"): its weights and
statistics never change while a student trains with it, a flipped input gives
flipped labels, and its labels equal the offline PNGs of
``tools/generate_pseudo_labels.py`` for the same images.

The teacher here is a per-pixel segmentor (1x1 convolutions and BatchNorm, then a
2x2 average pool, so that ``SegTeacher`` upsamples its logits): exactly equivariant
to horizontal flips of even-sized inputs. A general CNN teacher (zero padding,
strided convolutions whose sampling grid is anchored at the left edge) is only
approximately flip-equivariant, and ``SegTeacher`` runs no flip test-time
augmentation that would make it exact, so the flip property is tested on a model
for which it holds by construction: what is tested is that ``SegTeacher`` itself
(re-normalisation, resizing, argmax) adds no asymmetry.
"""
import pathlib
import sys

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmengine.structures import PixelData
from torch import nn

from mmdepthsem.registry import DATASETS, MODELS
from mmdepthsem.structures import DepthSemDataSample
from mmdepthsem.utils import register_all_modules

from ..conftest import DEMO_CONFIG, load_tool, small_demo_options

register_all_modules()
STUDENT_MEAN, STUDENT_STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]
# The teacher normalises differently from the student, so SegTeacher converts.
TEACHER_CONFIG = """
model = dict(
    type='_PixelTeacherSegmentor',
    num_classes=6,
    data_preprocessor=dict(mean=[127.5, 127.5, 127.5], std=[64.0, 64.0, 64.0]))
"""


@MODELS.register_module(force=True)
class _PixelTeacherSegmentor(nn.Module):
    """Per-pixel logits (1x1 conv - BN - ReLU - 1x1 conv) at half resolution."""

    def __init__(self, num_classes=6):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 1), nn.BatchNorm2d(8), nn.ReLU(),
                                  nn.Conv2d(8, num_classes, 1))
        self.pool = nn.AvgPool2d(2)

    def forward(self, inputs, mode='tensor'):
        return self.pool(self.body(inputs))


def _teacher_model(seed=0):
    """A teacher segmentor with non-trivial BN statistics and decisive logits."""
    torch.manual_seed(seed)
    model = _PixelTeacherSegmentor()
    bn = model.body[1]
    bn.running_mean.uniform_(-0.2, 0.2)
    bn.running_var.uniform_(0.5, 1.5)
    with torch.no_grad():
        model.body[3].weight.mul_(20.0)
    return model


@pytest.fixture
def teacher_files(tmp_path):
    config = tmp_path / 'pixel_teacher.py'
    config.write_text(TEACHER_CONFIG)
    checkpoint = tmp_path / 'pixel_teacher.pth'
    torch.save({'state_dict': _teacher_model().state_dict(),
                'meta': dict(note='tiny test teacher')}, checkpoint)
    return config, checkpoint


def _teacher(teacher_files):
    config, checkpoint = teacher_files
    return MODELS.build(dict(type='SegTeacher', model=str(config),
                             checkpoint=str(checkpoint)))


def _student(teacher_files, pseudo_label_field='gt_sem_seg'):
    config, checkpoint = teacher_files
    return MODELS.build(dict(
        type='MultiTaskEstimator',
        data_preprocessor=dict(type='DepthSemDataPreProcessor', mean=STUDENT_MEAN,
                               std=STUDENT_STD, bgr_to_rgb=True, size_divisor=32),
        backbone=dict(type='mmseg.TIMMBackbone', model_name='resnet18',
                      features_only=True, pretrained=False, out_indices=(1, 2)),
        decode_neck=dict(type='UpConcatDecoder', in_channels=[64, 128],
                         channels=[16], out_levels=[0]),
        sem_head=dict(type='FCNHead', in_channels=16, channels=8, num_convs=1,
                      num_classes=6, concat_input=False,
                      loss_decode=dict(type='CrossEntropyLoss', avg_non_ignore=True)),
        teacher=dict(type='SegTeacher', model=str(config), checkpoint=str(checkpoint)),
        pseudo_label_field=pseudo_label_field))


def _unlabelled_batch(num, height=32, width=32):
    inputs, samples = [], []
    for _ in range(num):
        inputs.append(torch.randint(0, 256, (3, height, width), dtype=torch.uint8))
        samples.append(DepthSemDataSample(metainfo=dict(
            img_shape=(height, width), ori_shape=(height, width))))
    return dict(inputs=inputs, data_samples=samples)


def test_teacher_weights_and_statistics_survive_student_optimiser_steps(teacher_files):
    torch.manual_seed(0)
    student = _student(teacher_files)
    teacher = student.teacher
    frozen = {k: v.clone() for k, v in teacher.state_dict().items()}
    assert any('running_mean' in k for k in frozen)  # BN statistics are checked too
    student_before = {k: v.clone() for k, v in student.named_parameters()
                      if not k.startswith('teacher.')}
    # weight decay would shrink every parameter the optimiser touched
    optim = build_optim_wrapper(student, dict(
        type='OptimWrapper',
        optimizer=dict(type='AdamW', lr=1e-2, weight_decay=0.5)))
    student.train()
    assert not teacher.training and not teacher.model.training
    for step in range(3):
        data = student.data_preprocessor(_unlabelled_batch(2), training=True)
        losses = student(**data, mode='loss')
        assert all('gt_sem_seg' in s for s in data['data_samples'])  # labelled
        optim.update_params(sum(v for k, v in losses.items() if 'loss' in k))
        assert all(p.grad is None for p in teacher.parameters()), step
    assert not teacher.training and not teacher.model.training
    for key, value in teacher.state_dict().items():
        assert torch.equal(value, frozen[key]), key
    assert all(not p.requires_grad for p in teacher.parameters())
    changed = [k for k, v in student.named_parameters()
               if k in student_before and not torch.equal(v, student_before[k])]
    assert len(changed) == len(student_before)  # the student did train


def test_teacher_runs_without_autograd(teacher_files):
    teacher = _teacher(teacher_files)
    inputs = torch.randn(1, 3, 16, 16, requires_grad=True)
    with torch.enable_grad():
        labels, conf = teacher(inputs)
    assert not conf.requires_grad and conf.grad_fn is None
    assert labels.dtype == torch.int64 and labels.shape == (1, 16, 16)


def test_flipped_input_gives_flipped_labels(teacher_files):
    teacher = _teacher(teacher_files)
    mean = torch.tensor(STUDENT_MEAN).view(3, 1, 1)
    std = torch.tensor(STUDENT_STD).view(3, 1, 1)
    torch.manual_seed(0)
    raw = torch.randint(0, 256, (2, 3, 24, 40)).float()  # even sizes: exact pooling
    inputs = (raw - mean) / std
    flipped = inputs.flip(-1)
    labels, conf = teacher(inputs, None, mean, std)
    labels_f, conf_f = teacher(flipped, None, mean, std)
    assert labels.shape == (2, 24, 40)
    assert len(labels.unique()) > 1  # not a constant teacher
    assert torch.equal(labels_f, labels.flip(-1))
    torch.testing.assert_close(conf_f, conf.flip(-1), rtol=0, atol=1e-6)
    # vertically as well: the model has no preferred direction
    labels_v, _ = teacher(inputs.flip(-2), None, mean, std)
    assert torch.equal(labels_v, labels.flip(-2))


def _pseudo_label_tool():
    return load_tool('tools/generate_pseudo_labels.py')


@pytest.mark.slow
def test_online_labels_equal_the_offline_pngs(teacher_files, synthetic_nyu, tmp_path,
                                             monkeypatch):
    """The real tool writes the PNGs (run in this process, so that the test's
    segmentor is registered); the online teacher labels the same images inside a
    student whose data preprocessor normalises them its own way (ImageNet mean/std,
    BGR->RGB, size_divisor 32)."""
    config, checkpoint = teacher_files
    out = tmp_path / 'pseudo'
    options = small_demo_options(synthetic_nyu)
    monkeypatch.setattr(sys, 'argv', [
        'generate_pseudo_labels.py', str(config), str(checkpoint),
        '--data-config', str(DEMO_CONFIG), '--phase', 'test', '--out-dir', str(out),
        '--with-conf', '--device', 'cpu', '--cfg-options', *options])
    _pseudo_label_tool().main()
    names = sorted((pathlib.Path(synthetic_nyu) / 'test.txt').read_text().split())
    assert sorted(p.stem for p in out.glob('*.png') if not p.stem.endswith('_conf')) \
        == names

    # The student's view of the same test images: the dataset's files, un-augmented.
    data_cfg = Config.fromfile(str(DEMO_CONFIG))
    dataset_cfg = data_cfg.test_dataloader.dataset
    dataset_cfg.data_root = str(synthetic_nyu)
    dataset_cfg.image_size = [96, 64]  # as the tool's --cfg-options
    dataset_cfg.pipeline = [dict(type='LoadImageFromFile'),
                            dict(type='PackDepthSemInputs')]
    dataset = DATASETS.build(dataset_cfg)
    student = _student(teacher_files, pseudo_label_field='gt_pseudo_sem_seg')
    student.train()
    batch = pseudo_collate([dataset[i] for i in range(len(dataset))])
    data = student.data_preprocessor(batch, training=True)
    assert data['inputs'].shape[-2:] == (64, 96)  # no padding at this size
    student.pseudo_label(data['inputs'], data['data_samples'])
    seen = []
    for index, sample in enumerate(data['data_samples']):
        name = dataset.get_data_info(index)['sample_name']
        assert pathlib.Path(sample.metainfo['img_path']).stem == name
        seen.append(name)
        offline = cv2.imread(str(out / f'{name}.png'), cv2.IMREAD_UNCHANGED)
        offline_conf = cv2.imread(str(out / f'{name}_conf.png'),
                                  cv2.IMREAD_UNCHANGED) / 65535
        online = sample.gt_pseudo_sem_seg.data[0].numpy()
        assert isinstance(sample.gt_pseudo_sem_seg, PixelData)
        assert online.shape == offline.shape == (64, 96)
        assert np.array_equal(online, offline), (name, (online != offline).mean())
        assert len(np.unique(offline)) > 1  # the teacher is not constant
        conf = sample.gt_pseudo_conf.data[0].numpy()
        assert np.abs(conf - offline_conf).max() <= 1 / 65535
    assert sorted(seen) == names
