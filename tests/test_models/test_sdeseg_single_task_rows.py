"""SDE-Seg's single-task rows as the released code builds them.

The release trains Tables 3 and 5 (baseline, pseudo-labels, ClassMix, DepthMix,
transfer) with ``JointSegDepthDecoder`` (experiments.py id 210, ``head_inter=False``):
no PAD-Net, no intermediate head, and a class head that is a bias-free 1×1
projection of the last block to 64 channels followed by a 1×1 conv. Multi-task rows
(MTL, "ours", CamVid, SSDA) keep PAD-Net at block 2 and the side output
(docs/sdeseg.md, row 19).
"""
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmdepthsem.models.decode_heads import MonodepthDepthDecoder
from mmdepthsem.registry import MODELS
from mmdepthsem.utils import register_all_modules
from mmdepthsem.utils.decoder_transfer import transfer_depth_decoder_to_sem

from .test_mean_teacher_estimator import C, branched_batch, build
from .test_mean_teacher_estimator import one_thread  # noqa: F401 (autouse fixture)

register_all_modules()
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SINGLE_TASK = ['ssl_baseline', 'ssl_pseudo_labels', 'ssl_classmix', 'ssl_depthmix',
               'ssl_transfer']
MULTI_TASK = ['ssl_mtl_resnet101_cityscapes', 'ssl_ours_resnet101_cityscapes',
              'ssl_ours_resnet101_camvid', 'ssda_gta5_to_cityscapes_resnet101',
              'ssda_synthia_to_cityscapes_resnet101']
PROJECTED = dict(type='ASPPUNetDecoder', in_channels=(64, 64, 128, 256, 512),
                 channels=(8, 8, 16, 16, 16), out_channels=C, out_activation=None,
                 scales=(0, ), head_kernel_size=1, head_channels=4)


def test_projected_head_is_a_bias_free_projection_then_a_class_conv():
    """x = (1, 2, 3) at one pixel; projection rows (1, 0, 1) and (0, 1, -1) give
    (4, -1); the class conv (2, 3) + 0.5 gives 8 - 3 + 0.5 = 5.5."""
    dec = MonodepthDepthDecoder(channels=(3, 32, 64, 128, 256), scales=(0, ),
                                out_channels=1, out_activation=None,
                                head_kernel_size=1, head_channels=2)
    project, classify = dec.heads['scale0']
    assert project.bias is None and classify.bias is not None
    assert project.weight.shape == (2, 3, 1, 1) and classify.weight.shape == (1, 2, 1, 1)
    with torch.no_grad():
        project.weight.copy_(torch.tensor([[1.0, 0, 1], [0, 1, -1]])[..., None, None])
        classify.weight.copy_(torch.tensor([[2.0, 3.0]])[..., None, None])
        classify.bias.fill_(0.5)
    x = torch.tensor([1.0, 2.0, 3.0]).view(1, 3, 1, 1).expand(1, 3, 2, 2)
    assert torch.allclose(dec.forward_head(0, x), torch.full((1, 1, 2, 2), 5.5))


def test_projected_head_checks_its_arguments():
    with pytest.raises(ValueError, match='head_channels'):
        MonodepthDepthDecoder(head_channels=64)  # needs head_kernel_size=1
    with pytest.raises(ValueError, match='head_channels'):
        MonodepthDepthDecoder(head_kernel_size=1, head_channels=0)


def test_transfer_leaves_the_projected_head_at_its_init():
    depth = MODELS.build(dict(PROJECTED, out_channels=1, out_activation='sigmoid',
                              scales=(0, 1, 2, 3), head_kernel_size=3,
                              head_channels=None))
    sem = MODELS.build(PROJECTED)
    target = {f'sem_decoder.{k}': v for k, v in sem.state_dict().items()}
    source = {f'depth_decoder.{k}': v for k, v in depth.state_dict().items()}
    state, report = transfer_depth_decoder_to_sem(source, target)
    head_keys = {'sem_decoder.heads.scale0.0.weight', 'sem_decoder.heads.scale0.1.weight',
                 'sem_decoder.heads.scale0.1.bias'}
    assert head_keys <= set(report.skipped)
    block = 'sem_decoder.blocks.block1.conv_in.conv.weight'
    assert block in state
    assert torch.equal(state[block], source[block.replace('sem_', 'depth_')])


def test_single_task_estimator_trains_the_projection_without_distillation():
    """Without cross-task blocks the labelled CE is the plain one: projection and
    class conv at zero, bias 0 everywhere -> CE = ln C; both head convs get a
    gradient, and the depth decoder none (no SDE loss, nothing exchanged)."""
    model = build(sem_decoder=PROJECTED, cross_task_blocks={}, unlabelled_loss=None,
                  depth_loss_weight=0.0)
    assert len(model.cross_task) == 0
    project, classify = model.sem_decoder.heads['scale0']
    with torch.no_grad():
        classify.weight.zero_()
        classify.bias.zero_()
    inputs, samples = branched_batch(model)
    loss = model.loss(inputs['labelled'], samples['labelled'])['loss_sem']
    assert loss.item() == pytest.approx(math.log(C), rel=1e-6)
    with torch.no_grad():
        classify.weight.normal_()
    loss = model.loss(inputs['labelled'], samples['labelled'])['loss_sem']
    grads = torch.autograd.grad(
        loss, [project.weight, classify.weight,
               *model.depth_decoder.parameters()], allow_unused=True)
    assert grads[0].abs().sum() > 0 and grads[1].abs().sum() > 0
    assert all(g is None or g.abs().sum() == 0 for g in grads[2:])


@pytest.mark.parametrize('row', SINGLE_TASK)
def test_single_task_configs_follow_the_release(row):
    cfg = Config.fromfile(osp.join(REPO, 'configs/sdeseg', f'{row}_resnet101_cityscapes.py'))
    m = cfg.model
    assert dict(m.cross_task_blocks) == {}
    assert tuple(m.sem_decoder.side_outputs) == ()
    assert (m.sem_decoder.head_kernel_size, m.sem_decoder.head_channels) == (1, 64)
    assert m.depth_loss_weight == 0.0
    sem = MODELS.build(m.sem_decoder)
    project, classify = sem.heads['scale0']
    assert project.weight.shape == (64, m.sem_decoder.channels[0], 1, 1)
    assert project.bias is None
    assert classify.weight.shape == (19, 64, 1, 1)


@pytest.mark.parametrize('name', MULTI_TASK)
def test_multi_task_configs_keep_pad_net_and_the_side_output(name):
    m = Config.fromfile(osp.join(REPO, 'configs/sdeseg', f'{name}.py')).model
    assert set(map(int, m.cross_task_blocks)) == {2}
    assert tuple(m.sem_decoder.side_outputs) == (2, )
    assert m.sem_decoder.get('head_channels') is None
