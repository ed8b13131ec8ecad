"""The batch form of the mixes: equal to the pipeline form, and teacher ordering."""
import copy

import numpy as np
import pytest
import torch
from torch import nn

from mmdepthsem.datasets.transforms import PackDepthSemInputs
from mmdepthsem.models import DepthSemDataPreProcessor
from mmdepthsem.models.data_augments import mix_like
from mmdepthsem.registry import MODELS, TRANSFORMS
from mmdepthsem.utils import register_all_modules

register_all_modules()

MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]

# (pipeline transform config, batch augment type)
METHODS = [
    (dict(type='NearFarMix', depth_range=(1.5, 6.5)), 'BatchNearFarMix'),
    (dict(type='DepthMix', mask_source='gt'), 'BatchDepthMix'),
    (dict(type='DepthMix', space='depth', epsilon=0.1, mask_source='gt'),
     'BatchDepthMix'),
    (dict(type='CutMix'), 'BatchCutMix'),
    (dict(type='ClassMix'), 'BatchClassMix'),
    (dict(type='AffineMix', mask_source='gt'), 'BatchAffineMix'),
    (dict(type='CutDepth'), 'BatchCutDepth'),
    (dict(type='VCutDepth'), 'BatchVCutDepth'),
]


def scene(seed, h=12, w=16):
    """A pipeline ``results`` dict with textured image, depth, labels, confidence."""
    rng = np.random.RandomState(seed)
    depth = rng.uniform(1.0, 8.0, (h, w)).astype(np.float32)
    depth[rng.rand(h, w) < 0.1] = 0  # invalid pixels
    labels = rng.randint(0, 5, (h, w)).astype(np.uint8)
    labels[rng.rand(h, w) < 0.1] = 255
    return dict(img=rng.randint(0, 256, (h, w, 3)).astype(np.uint8),
                gt_depth_map=depth, gt_seg_map=labels, seg_fields=['gt_seg_map'],
                gt_pseudo_conf=rng.rand(h, w).astype(np.float32),
                img_path=f'scene{seed}.png', img_shape=(h, w), ori_shape=(h, w))


def pack(results):
    return PackDepthSemInputs()(results)


def collate(packed):
    return dict(inputs=[p['inputs'] for p in packed],
                data_samples=[p['data_samples'] for p in packed])


@pytest.mark.parametrize('transform_cfg,batch_type', METHODS)
@pytest.mark.parametrize('seed', [0, 1, 2])
def test_batch_and_pipeline_forms_are_identical(transform_cfg, batch_type, seed):
    first, second = scene(10 + seed), scene(20 + seed)
    transform = TRANSFORMS.build(transform_cfg)
    np.random.seed(seed)
    piped = transform(dict(copy.deepcopy(first), mix_results=[copy.deepcopy(second)]))
    plain = DepthSemDataPreProcessor(mean=MEAN, std=STD)
    expected = plain(collate([pack(piped)]), training=True)

    kwargs = {k: v for k, v in transform_cfg.items() if k != 'type'}
    batched = DepthSemDataPreProcessor(mean=MEAN, std=STD, batch_augments=[
        dict(type=batch_type, **kwargs)])
    np.random.seed(seed)
    got = batched(collate([pack(copy.deepcopy(first)), pack(copy.deepcopy(second))]),
                  training=True)
    assert torch.equal(got['inputs'][0], expected['inputs'][0])
    exp_sample, got_sample = expected['data_samples'][0], got['data_samples'][0]
    for name in ('gt_depth_map', 'gt_sem_seg', 'gt_pseudo_conf'):
        assert torch.equal(getattr(got_sample, name).data,
                           getattr(exp_sample, name).data), name
    info = got_sample.metainfo['mix_info']
    assert info['method'] == transform.name
    for key, value in piped['mix_info'].items():
        if key != 'partner':
            assert info[key] == value


@pytest.mark.parametrize('transform_cfg,batch_type', METHODS)
def test_every_mix_changes_a_seeded_sample(transform_cfg, batch_type):
    first, second = scene(1), scene(2)
    np.random.seed(0)
    out = TRANSFORMS.build(transform_cfg)(
        dict(copy.deepcopy(first), mix_results=[second]))
    assert out['mix_info']['applied']
    assert not np.array_equal(out['img'], first['img'])


def test_batch_mix_pairs_with_the_rolled_neighbour_and_records_the_mask():
    samples = [scene(s) for s in range(3)]
    pre = DepthSemDataPreProcessor(batch_augments=[dict(type='BatchCutMix')])
    np.random.seed(4)
    out = pre(collate([pack(copy.deepcopy(s)) for s in samples]), training=True)
    raw = [torch.from_numpy(s['img'][..., ::-1].copy()).permute(2, 0, 1).float()
           for s in samples]
    for i, sample in enumerate(out['data_samples']):
        partner = sample.metainfo['mix_info']['partner']
        assert partner == (i + 1) % 3
        mask = sample.mix_mask.data[0]
        expected = torch.where(mask, raw[i], raw[partner])
        assert torch.equal(out['inputs'][i], expected)


def test_batch_of_one_is_left_unchanged():
    pre = DepthSemDataPreProcessor(batch_augments=[
        dict(type='BatchNearFarMix', depth_range=(1.5, 6.5))])
    sample = scene(0)
    out = pre(collate([pack(copy.deepcopy(sample))]), training=True)
    assert out['data_samples'][0].metainfo['mix_info']['skipped'] == 'batch_of_one'


def test_mix_like_mixes_later_maps_with_the_recorded_masks():
    pre = DepthSemDataPreProcessor(batch_augments=[dict(type='BatchClassMix')])
    np.random.seed(0)
    out = pre(collate([pack(scene(s)) for s in range(2)]), training=True)
    values = torch.stack([torch.full((12, 16), 1.0), torch.full((12, 16), 2.0)])
    mixed = mix_like(values, out['data_samples'])
    for i, sample in enumerate(out['data_samples']):
        mask = sample.mix_mask.data[0]
        assert torch.equal(mixed[i], torch.where(mask, values[i], values[1 - i]))


# ------------------------------------------------------- teachers and mixing order
@MODELS.register_module(force=True)
class _RecordingSegmentor(nn.Module):
    """A fixed segmentor for the test: class = brightness bucket of channel 0; it
    records every batch it is shown."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(1.0))
        self.seen = []

    def forward(self, inputs, mode='tensor'):
        self.seen.append(inputs.detach().clone())
        bucket = (inputs[:, :1] * self.scale > 0).float()
        return torch.cat([1 - bucket, bucket], 1) * 5.0


def _student(teacher=True):
    model = dict(
        type='MultiTaskEstimator',
        data_preprocessor=dict(type='DepthSemDataPreProcessor', mean=MEAN, std=STD,
                               batch_augments=[dict(type='BatchNearFarMix',
                                                    depth_range=(1.5, 6.5))]),
        backbone=dict(type='mmseg.TIMMBackbone', model_name='resnet18',
                      features_only=True, pretrained=False, out_indices=(1, 2, 3, 4)),
        decode_neck=dict(type='UpConcatDecoder', in_channels=[64, 128, 256, 512],
                         channels=[16, 16, 16], out_levels=[0]),
        depth_head=dict(type='DepthHead', in_channels=16, max_depth=10.0),
        sem_head=dict(type='FCNHead', in_channels=16, channels=8, num_convs=1,
                      num_classes=2, concat_input=False,
                      loss_decode=dict(type='CrossEntropyLoss', avg_non_ignore=True)))
    if teacher:
        model['teacher'] = dict(type='SegTeacher',
                                model=dict(type='_RecordingSegmentor'))
    return MODELS.build(model)


def _unlabelled(seed):
    results = scene(seed, h=32, w=32)
    del results['gt_seg_map'], results['seg_fields'], results['gt_pseudo_conf']
    return results


def test_teacher_never_sees_a_mixed_image():
    student = _student()
    student.train()
    assert not student.teacher.training  # stays in eval mode
    data = collate([pack(_unlabelled(s)) for s in range(3)])
    np.random.seed(0)
    batch = student.data_preprocessor(data, training=True)
    samples = batch['data_samples']
    assert any(s.metainfo['mix_info']['applied'] for s in samples)
    clean = torch.stack([s.img_unmixed for s in samples])
    assert not torch.equal(clean, batch['inputs'])  # the student's batch is mixed
    weights = [p.clone() for p in student.teacher.parameters()]
    losses = student.loss(batch['inputs'], samples)
    sum(losses.values()).backward()
    seen = student.teacher.model.seen[-1]
    assert torch.equal(seen, clean)  # the teacher saw the un-mixed images only
    # its labels were mixed afterwards with the same masks as the images
    teacher_labels = (clean[:, 0] > 0).long()
    expected = mix_like(teacher_labels, samples)
    got = torch.stack([s.gt_sem_seg.data[0] for s in samples])
    assert torch.equal(got, expected)
    assert all(torch.equal(a, b) for a, b in zip(weights, student.teacher.parameters()))
    assert all(p.grad is None for p in student.teacher.parameters())


def test_online_teacher_refuses_pipeline_mixed_samples():
    student = _student()
    transform = TRANSFORMS.build(dict(type='NearFarMix', depth_range=(1.5, 6.5)))
    np.random.seed(0)
    mixed = transform(dict(_unlabelled(0), mix_results=[_unlabelled(1)]))
    assert mixed['mix_info']['applied']
    pre = DepthSemDataPreProcessor(mean=MEAN, std=STD)
    batch = pre(collate([pack(mixed)]), training=True)
    with pytest.raises(RuntimeError, match='mixed in the data pipeline'):
        student.loss(batch['inputs'], batch['data_samples'])
