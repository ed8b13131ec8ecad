"""SDE-Seg's released intermediate segmentation head and its loss.

The released PAD decoder has a 1×1 class head on the segmentation decoder's block-2
output, read *before* the distillation adds the depth task's gated features, and the
labelled cross-entropy is ``(CE(final) + CE(intermediate)) / 2``; the teacher's
labels, the mixed batch's loss and the prediction use the final logits only
(docs/sdeseg.md, row 16). The official-architecture SSL config (row 17) is built
here too.
"""
import math
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from mmdepthsem.models.decode_heads import MonodepthDepthDecoder
from mmdepthsem.models.decode_heads.monodepth_decoder import decode_in_lockstep
from mmdepthsem.registry import MODELS
from mmdepthsem.utils import register_all_modules
from mmdepthsem.utils.decoder_transfer import transfer_depth_decoder_to_sem
from mmdepthsem.utils.tool_config import model_cfg_without_downloads

from .test_mean_teacher_estimator import C, branched_batch, build, set_sem_head
from .test_mean_teacher_estimator import one_thread  # noqa: F401 (autouse fixture)

register_all_modules()
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SIDE = dict(type='ASPPUNetDecoder', in_channels=(64, 64, 128, 256, 512),
            channels=(8, 8, 16, 16, 16), out_channels=C, out_activation=None,
            scales=(0, ), side_outputs=(2, ))


def encoder_features(batch=2, size=64, channels=(64, 64, 128, 256, 512)):
    torch.manual_seed(1)
    return [torch.randn(batch, c, size // 2 ** (i + 1), size // 2 ** (i + 1))
            for i, c in enumerate(channels)]


# ------------------------------------------------------------------ decoder
def test_side_outputs_read_the_block_output_before_the_exchange():
    feats = encoder_features()
    depth = MonodepthDepthDecoder(side_outputs=(2, ))
    sem = MonodepthDepthDecoder(out_channels=3, out_activation=None, scales=(0, ),
                                side_outputs=(2, 3))
    exchange = {'2': lambda d, s: (d + 1.0, s - 5.0)}
    d_out, s_out = decode_in_lockstep((depth, sem), feats, exchange)
    # the features after block 2 hold the exchanged maps; undo the exchange
    before_sem = s_out['features'][2] + 5.0
    before_depth = d_out['features'][2] - 1.0
    head = sem.side_heads['block2']
    assert torch.allclose(s_out['side_outputs'][2],
                          F.conv2d(before_sem, head.weight, head.bias), atol=1e-5)
    head = depth.side_heads['block2']
    assert torch.allclose(d_out['side_outputs'][2],
                          F.conv2d(before_depth, head.weight, head.bias).sigmoid(),
                          atol=1e-6)
    assert set(s_out['side_outputs']) == {2, 3}
    assert s_out['side_outputs'][2].shape == (2, 3, 16, 16)  # stride 4 of 64
    assert s_out['side_outputs'][3].shape == (2, 3, 8, 8)
    # the final output still reads the exchanged block-0 path only
    assert set(s_out['outputs']) == {0}
    assert MonodepthDepthDecoder()(feats)['side_outputs'] == {}


def test_head_kernel_size_and_argument_checks():
    one = MonodepthDepthDecoder(head_kernel_size=1, scales=(0, ))
    assert one.heads['scale0'].kernel_size == (1, 1)
    assert one.heads['scale0'].padding_mode == 'zeros'
    three = MonodepthDepthDecoder(scales=(0, ))
    assert three.heads['scale0'].kernel_size == (3, 3)
    assert three.heads['scale0'].padding_mode == 'reflect'
    assert not list(three.side_heads.parameters())  # no state-dict keys without
    with pytest.raises(ValueError, match='head_kernel_size'):
        MonodepthDepthDecoder(head_kernel_size=5)
    with pytest.raises(ValueError, match='side_outputs'):
        MonodepthDepthDecoder(side_outputs=(5, ))


def test_transfer_from_the_depth_decoder_leaves_the_side_head_at_its_init():
    depth = MODELS.build(dict(SIDE, out_channels=1, out_activation='sigmoid',
                              scales=(0, 1, 2, 3), side_outputs=()))
    sem = MODELS.build(SIDE)
    target = {f'sem_decoder.{k}': v for k, v in sem.state_dict().items()}
    source = {f'depth_decoder.{k}': v for k, v in depth.state_dict().items()}
    _, report = transfer_depth_decoder_to_sem(source, target)
    assert 'sem_decoder.side_heads.block2.weight' in report.skipped
    assert 'keeps init' in report.skipped['sem_decoder.side_heads.block2.weight']


# ------------------------------------------------------------------ the loss
def set_side_head(model, bias):
    head = model.sem_decoder.side_heads['block2']
    with torch.no_grad():
        head.weight.zero_()
        head.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))


def test_labelled_cross_entropy_is_the_mean_of_the_final_and_the_side_one():
    """Final logits all 0: CE = ln C on every pixel. Side logits (ln 4, 0, 0, 0, 0)
    everywhere: CE = ln 2 on class-0 pixels (4 / (4 + 4)), ln 8 elsewhere (1 / 8).
    The labelled loss is their mean; without the side head it is ln C."""
    assert C == 5
    model = build(sem_decoder=SIDE, unlabelled_loss=None, depth_loss_weight=0.0)
    set_sem_head(model, weight=0.0, bias=[0.0] * C)
    set_side_head(model, [math.log(4.0)] + [0.0] * (C - 1))
    inputs, samples = branched_batch(model)
    labels = torch.stack([s.gt_sem_seg.data[0] for s in samples['labelled']])
    share0 = (labels == 0).float().mean().item()
    side_ce = share0 * math.log(2.0) + (1 - share0) * math.log(8.0)
    loss = model.loss(inputs['labelled'], samples['labelled'])['loss_sem']
    assert loss.item() == pytest.approx((math.log(C) + side_ce) / 2, rel=1e-5)
    # the branched (semi-supervised) batch's labelled term follows the same rule
    loss = model.loss(inputs, samples)['loss_sem']
    assert loss.item() == pytest.approx((math.log(C) + side_ce) / 2, rel=1e-5)

    plain = build(unlabelled_loss=None, depth_loss_weight=0.0)
    set_sem_head(plain, weight=0.0, bias=[0.0] * C)
    loss = plain.loss(inputs['labelled'], samples['labelled'])['loss_sem']
    assert loss.item() == pytest.approx(math.log(C), rel=1e-5)


def test_only_the_labelled_loss_trains_the_side_head():
    model = build(sem_decoder=SIDE, mix_depth='estimate', depth_loss_weight=0.0,
                  color_jitter=None, blur_sigma=None).train()
    inputs, samples = branched_batch(model, with_depth=True)
    losses = model.loss(inputs, samples)
    side = model.sem_decoder.side_heads['block2'].weight
    final = model.sem_decoder.heads['scale0'].weight
    grad_mixed = torch.autograd.grad(losses['loss_sem_unlabelled'], [side, final],
                                     retain_graph=True, allow_unused=True)
    assert grad_mixed[0] is None and grad_mixed[1].abs().sum() > 0
    grad_lab, = torch.autograd.grad(losses['loss_sem'], [side])
    assert grad_lab.abs().sum() > 0
    # predictions: the final logits, one map per sample at the input size
    model.eval()
    with torch.no_grad():
        out = model.predict(inputs['labelled'], samples['labelled'])
    assert out[0].seg_logits.data.shape == (C, 64, 64)


# ------------------------------------------------------------------ configs
@pytest.mark.parametrize('name', [
    'ssl_ours_resnet101_cityscapes.py', 'ssl_mtl_resnet101_cityscapes.py',
    'ssl_ours_resnet101_camvid.py', 'ssda_gta5_to_cityscapes_resnet101.py',
    'ssda_synthia_to_cityscapes_resnet101.py'])
def test_paper_table_configs_build_the_released_decoders(name):
    # row 17: the configs that reproduce a table follow the released decoder
    cfg = Config.fromfile(osp.join(REPO, 'configs/sdeseg', name))
    m = cfg.model
    num_classes = m.sem_decoder.out_channels
    assert m.data_preprocessor.type == 'MultiBranchDataPreProcessor'
    assert m.data_preprocessor.mean == [114.75] * 3
    assert m.data_preprocessor.std == [57.375] * 3
    for dec in (m.depth_decoder, m.sem_decoder):
        assert tuple(dec.channels) == (64, 128, 128, 256, 256)
        assert (dec.aspp_skip_conv, dec.aspp_fuse_kernel_size,
                dec.aspp_fuse_dropout) == (True, 1, 0.5)
    assert m.sem_decoder.head_kernel_size == 1
    assert tuple(m.sem_decoder.side_outputs) == (2, )
    assert m.cross_task_blocks[2].channels == 128
    assert m.mix_partner == 'pool' and m.teacher_warmup is True  # release rules kept
    if name != 'ssl_ours_resnet101_cityscapes.py':
        return  # building is the same network; once is enough for the suite's time
    model = MODELS.build(model_cfg_without_downloads(m))
    sem = model.sem_decoder
    assert sem.heads['scale0'].weight.shape == (num_classes, 64, 1, 1)
    assert sem.side_heads['block2'].weight.shape == (num_classes, 128, 1, 1)
    # everything but the heads has a same-shaped source in the depth decoder
    depth = model.depth_decoder.state_dict()
    for key, value in sem.state_dict().items():
        if not key.startswith(('heads.', 'side_heads.')):
            assert depth[key].shape == value.shape, key


@pytest.mark.parametrize('name, widths, options, mean, head', [
    ('sde_stage_a_resnet101_cityscapes.py', (64, 128, 128, 256, 256),
     (True, 1, 0.5), 114.75, None),
    ('sde_stage_b_resnet101_cityscapes.py', (64, 128, 128, 256, 256),
     (True, 1, 0.5), 114.75, None),
    ('ssl_baseline_resnet101_cityscapes.py', (64, 128, 128, 256, 256),
     (True, 1, 0.5), 114.75, 1),
    ('sde_stage_a_resnet101_cityscapes_paper_decoder.py', (32, 64, 128, 256, 256),
     (False, 3, 0.0), 123.675, None),
    ('ssl_ours_resnet101_cityscapes_paper_decoder.py', (32, 64, 128, 256, 256),
     (False, 3, 0.0), 123.675, 3),
])
def test_decoder_form_of_each_sde_config(name, widths, options, mean, head):
    # row 17: the release's decoder by default, the paper reading in *_paper_decoder
    m = Config.fromfile(osp.join(REPO, 'configs/sdeseg', name)).model
    decoders = [m.depth_decoder] + ([m.sem_decoder] if 'sem_decoder' in m else [])
    for dec in decoders:
        assert tuple(dec.channels) == widths
        assert (dec.aspp_skip_conv, dec.aspp_fuse_kernel_size,
                dec.aspp_fuse_dropout) == options
    assert m.data_preprocessor.mean[0] == pytest.approx(mean)
    if head is not None:
        assert m.sem_decoder.head_kernel_size == head
    if 'cross_task_blocks' in m and 2 in m.cross_task_blocks:
        assert m.cross_task_blocks[2].channels == widths[2]


def test_demo_configs_keep_the_decoder_their_figures_were_measured_with():
    for name in ('demo/sde_stage_a_resnet18_synthetic.py',
                 'demo/ssl_depthmix_resnet18_synthetic.py'):
        m = Config.fromfile(osp.join(REPO, 'configs/sdeseg', name)).model
        assert m.depth_decoder.aspp_skip_conv is False
        assert m.depth_decoder.aspp_fuse_kernel_size == 3
        assert m.data_preprocessor.mean[0] == pytest.approx(123.675)
        if 'sem_decoder' in m:
            assert m.sem_decoder.head_kernel_size == 3
