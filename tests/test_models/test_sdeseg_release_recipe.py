"""SDE-Seg's released training rules, each against its paper-literal form.

Every rule of ``lhoyer/improving_segmentation_with_selfsupervised_depth`` that the
paper configs take (docs/sdeseg.md, "Paper text vs released code vs default here")
is pinned here on small tensors with values computed by hand: the mean teacher's
warm-up and batch-statistics mode, q' over the batch, the mixed cross-entropy
averaged over all pixels, the pool ``G_A ∪ G_U`` with ground truth for its labelled
members, ClassMix's ``floor(n / 2)``, the blur kernel and the once-per-batch draws,
the sender-gated distillation, the SDE loss on both branches.
"""
import glob
import math
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.model import ExponentialMovingAverage
from mmengine.structures import PixelData
from torch import nn

from mmdepthsem.datasets.transforms import ClassMix
from mmdepthsem.datasets.transforms.mixing import MixView
from mmdepthsem.models.estimators.mean_teacher_estimator import auto_blur_kernel
from mmdepthsem.models.necks import AttentionGuidedDistillation
from mmdepthsem.models.utils import WarmupExponentialMovingAverage
from mmdepthsem.registry import MODELS
from mmdepthsem.utils import register_all_modules
from mmdepthsem.utils.tool_config import model_cfg_without_downloads

from .test_mean_teacher_estimator import (C, H, LEFT, NEAR_LEFT, NEAR_RIGHT, W,
                                          branched_batch, build, fake_teacher,
                                          gt_labels, labelled_sample, texture,
                                          unlabelled_sample)
from .test_mean_teacher_estimator import one_thread  # noqa: F401 (autouse fixture)

register_all_modules()
ENC_18 = (64, 64, 128, 256, 512)  # ResNet-18 features at strides 2..16


# ------------------------------------------------------------ mean teacher
def scalar_model(value):
    model = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(value)
    return model


@pytest.mark.parametrize('warmup', [True, False])
def test_teacher_warmup_is_a_running_mean_until_the_momentum_takes_over(warmup):
    """Momentum 0.25; the student's weight takes 4, 8, 2, 10, 6 at updates 0..4.

    Warm-up (release): m = 1/2, 1/3, then max(1/4, 0.25) = 0.25, 0.25 ->
    4, (4+8)/2 = 6, (4+8+2)/3 = 14/3, 14/3 + (10 - 14/3)/4 = 6, 6 + (6-6)/4 = 6.
    Fixed (paper eq. 11): 4, 5, 4.25, 5.6875, 5.765625.
    """
    student = scalar_model(4.0)
    ema_type = (WarmupExponentialMovingAverage if warmup
                else ExponentialMovingAverage)
    ema = ema_type(student, momentum=0.25)
    seen = []
    for value in (4.0, 8.0, 2.0, 10.0, 6.0):
        with torch.no_grad():
            student.weight.fill_(value)
        ema.update_parameters(student)
        seen.append(float(ema.module.weight))
    expected = ([4.0, 6.0, 14 / 3, 6.0, 6.0] if warmup else
                [4.0, 5.0, 4.25, 5.6875, 5.765625])
    assert seen == pytest.approx(expected, abs=1e-6)


def test_warmup_momentum_matches_the_release_alpha_schedule():
    """Release: alpha_t = min(1 - 1/(t + 1), 0.99) at training step t = 1, 2, ...
    after the copy at creation; here update n = t follows n earlier ones."""
    ema = WarmupExponentialMovingAverage(scalar_model(0.0), momentum=0.01)
    for t in (1, 2, 3, 50, 98, 99, 100, 1000):
        alpha = min(1 - 1 / (t + 1), 0.99)
        assert ema.warmup_momentum(t) == pytest.approx(1 - alpha)


def test_teacher_mode_train_labels_with_batch_statistics_and_returns_to_eval():
    images = torch.randn(2, 3, H, W) * 3 + 1
    labels = {}
    for mode in ('eval', 'train'):
        model = build(teacher_mode=mode, teacher_warmup=True).train()
        model.update_teacher()  # copy
        assert not model.teacher.module.training
        pseudo, conf = model.teacher_labels(images)
        assert not model.teacher.module.training  # back in eval mode
        assert pseudo.shape == conf.shape == (2, H, W)
        labels[mode] = conf
    # same weights (seeded build), other normalisation statistics
    assert not torch.allclose(labels['eval'], labels['train'])
    with pytest.raises(ValueError, match='teacher_mode'):
        build(teacher_mode='frozen')


# ------------------------------------------------------------ q' and the CE
def test_q_prime_per_image_and_over_the_batch():
    model = build(q_prime_over='image')
    conf = torch.tensor([[[0.99, 0.99], [0.5, 0.5]],
                         [[0.99, 0.1], [0.1, 0.1]]])
    assert model.q_prime(conf).tolist() == pytest.approx([0.5, 0.25])
    model.q_prime_over = 'batch'
    assert model.q_prime(conf).tolist() == pytest.approx([0.375, 0.375])


@pytest.mark.parametrize('average', ['non_ignore', 'all'])
def test_mixed_cross_entropy_average_over_non_ignored_or_all_pixels(average):
    """Uniform logits: CE = ln C on every pixel; q' = 0.5 on both images; one of
    the 2·H·W pixels ignored per image row 0 -> 'all' divides by every pixel."""
    model = build(unlabelled_loss_average=average)
    labels = torch.zeros(2, H, W, dtype=torch.long)
    labels[:, 0] = 255
    weight = torch.full((2, H, W), 0.5)
    outputs = {0: torch.zeros(2, C, H, W)}
    avg_factor = labels.numel() if average == 'all' else None
    loss = model._sem_loss(outputs, labels, weight=weight, avg_factor=avg_factor)
    kept = (H - 1) / H
    expected = 0.5 * math.log(C) * (kept if average == 'all' else 1.0)
    assert float(loss) == pytest.approx(expected, rel=1e-5)


# ------------------------------------------------------------ the pool G_A ∪ G_U
def pool_sample(k, is_labelled, labels=None, depth=NEAR_LEFT):
    sample = unlabelled_sample(k, depth)
    sample.set_metainfo(dict(is_labelled=is_labelled))
    if labels is not None:
        sample.gt_sem_seg = PixelData(data=labels[None])
    return sample


def test_pool_labels_take_the_ground_truth_of_labelled_members_p_one_or_zero():
    model = build(mix_partner='pool')
    pseudo = torch.full((2, H, W), 3, dtype=torch.long)
    conf = torch.full((2, H, W), 0.7)
    gt = gt_labels(0)
    gt[:, :5] = 255
    samples = [pool_sample(0, True, gt), pool_sample(1, False)]
    labels, p = model._pool_labels(samples, pseudo, conf)
    assert torch.equal(labels[0], gt)
    assert torch.equal(p[0], (gt != 255).float())  # P = 1, ignored pixels P = 0
    assert torch.equal(labels[1], pseudo[1]) and torch.equal(p[1], conf[1])
    assert torch.equal(pseudo[0], torch.full((H, W), 3))  # inputs untouched

    with pytest.raises(KeyError, match='mark_labelled'):
        model._pool_labels([unlabelled_sample(0)], pseudo[:1], conf[:1])
    with pytest.raises(KeyError, match='LoadSemAnnotation'):
        model._pool_labels([pool_sample(0, True)], pseudo[:1], conf[:1])


def test_pool_mix_pairs_the_branch_with_itself_and_counts_gt_in_q_prime():
    """Unlabelled branch = pool of a labelled image (k = 0, nearer on the left)
    and an unlabelled one (k = 1, nearer on the right): image 0 keeps its left
    half and takes image 1's right half, image 1 keeps its right half and takes
    image 0's left half. The teacher is uniform (P = 1/C < τ); the labelled image
    has P = 1 except on its 5 ignored (leftmost) columns. Confident pixels: image
    0's own left half and the same half pasted into image 1, each W/2 - 5 columns,
    so q' over the batch is (W - 10) / (2 W) for both.
    """
    model = build(mix_partner='pool', mix_depth='estimate', depth_loss_weight=0.0,
                  q_prime_over='batch', unlabelled_loss_average='all',
                  color_jitter=None, blur_sigma=None).train()
    logits = torch.zeros(2, C, H, W)  # uniform: P = 1 / C < τ, argmax class 0
    fake_teacher(model, logits)
    gt = gt_labels(0)
    gt[:, :5] = 255
    inputs, samples = branched_batch(model, with_depth=True)
    samples['unlabelled'] = [pool_sample(0, True, gt, NEAR_LEFT),
                             pool_sample(1, False, None, NEAR_RIGHT)]
    losses = model.loss(inputs, samples)
    assert float(losses['mix_ratio']) == pytest.approx(0.5)
    assert float(losses['q_prime']) == pytest.approx((W - 10) / (2 * W))

    # eq. 13's second term: the mixed labels are GT (left) / pseudo class 0 (right)
    # in image 0 and GT (left) / pseudo (right) in image 1; CE averaged over all
    # pixels (ignored ones count 0), weight q'
    raw = model.to_raw(inputs['unlabelled'])
    mixed = torch.stack([torch.where(LEFT, raw[0], raw[1]),
                         torch.where(LEFT, raw[0], raw[1])])
    labels = torch.where(LEFT, gt, torch.zeros_like(gt)).expand(2, H, W)
    with torch.no_grad():
        _, sem = model.decode(model.data_preprocessor.normalize_float(mixed))
        ce = F.cross_entropy(sem['outputs'][0], labels, reduction='none',
                             ignore_index=255)
    expected = (W - 10) / (2 * W) * ce.sum() / labels.numel()
    assert float(losses['loss_sem_unlabelled']) == pytest.approx(float(expected),
                                                                 rel=1e-4)


def test_classmix_mixes_without_depth_when_the_sde_loss_is_off():
    """The config defect of ssl_classmix (online mixing depth without the SDE
    loss) is gone: ClassMix reads labels only."""
    model = build(unlabelled_loss='mix', depth_loss_weight=0.0, mix_depth='online',
                  mix_partner='unlabelled',
                  mix=dict(type='BatchClassMix', rounding='floor')).train()
    inputs, samples = branched_batch(model)
    losses = model.loss(inputs, samples)
    assert torch.isfinite(losses['loss_sem_unlabelled'])
    assert 'loss_photometric' not in losses


@pytest.mark.parametrize('rounding,kept', [('floor', 1), ('ceil', 2)])
def test_classmix_keeps_floor_or_ceil_of_half_the_classes(rounding, kept):
    labels = torch.tensor([[0, 1, 2, 255]]).expand(4, 4).clone()
    view = MixView(hw=(4, 4), labels=labels, name='a')
    plan = ClassMix(rounding=rounding).plan(view, view)
    assert len(plan.info['classes']) == kept
    assert torch.equal(plan.mask, torch.isin(labels, torch.tensor(
        plan.info['classes'])))
    assert not bool(plan.mask[:, 3].any())  # ignored pixels are never kept
    one_class = MixView(hw=(4, 4), labels=torch.zeros(4, 4, dtype=torch.long))
    plan = ClassMix(rounding=rounding).plan(one_class, one_class)
    assert bool(plan.mask.all()) == (rounding == 'ceil')  # floor(1/2) = 0 classes
    assert not bool(plan.mask.any()) == (rounding == 'floor')
    with pytest.raises(ValueError, match='rounding'):
        ClassMix(rounding='round')


# ------------------------------------------------------------ augmentation
def release_kernel(side):
    """The release's formula, written out: floor(ceil(0.1 n) - 0.5 + ceil(0.1 n) % 2)."""
    c = math.ceil(0.1 * side)
    return int(math.floor(c - 0.5 + c % 2))


@pytest.mark.parametrize('side', [64, 100, 128, 256, 511, 512, 1024])
def test_auto_blur_kernel_is_the_release_kernel(side):
    assert auto_blur_kernel(side) == release_kernel(side)
    assert auto_blur_kernel(side) % 2 == 1
    assert auto_blur_kernel(512) == 51


@pytest.mark.parametrize('per', ['image', 'batch'])
def test_augment_per_batch_draws_one_sigma_for_every_image(per):
    model = build(color_jitter=None, blur_prob=1.0, blur_sigma=(0.2, 5.0),
                  blur_kernel_size='auto', augment_per=per)
    image = torch.rand(1, 3, H, W) * 255
    torch.manual_seed(3)
    out = model.strong_augment(image.expand(4, -1, -1, -1).clone())
    same = all(torch.allclose(out[0], out[k]) for k in range(1, 4))
    assert same == (per == 'batch')
    assert not torch.allclose(out[0], image[0])  # blurred
    with pytest.raises(ValueError, match='blur_kernel_size'):
        build(blur_kernel_size=4)


# ------------------------------------------------------------ distillation gates
def one_by_one(module, gate_d, gate_s, msg_sd, msg_ds):
    with torch.no_grad():
        module.depth_gate.weight.fill_(gate_d)
        module.sem_gate.weight.fill_(gate_s)
        module.sem_to_depth.weight.fill_(msg_sd)
        module.depth_to_sem.weight.fill_(msg_ds)


@pytest.mark.parametrize('source', ['receiver', 'sender'])
def test_distillation_gates_from_the_receiving_or_the_sending_task(source):
    module = AttentionGuidedDistillation(1, kernel_size=1, gate_source=source,
                                         bias=False)
    one_by_one(module, gate_d=1.0, gate_s=-2.0, msg_sd=3.0, msg_ds=0.5)
    depth, sem = torch.tensor([[[[0.4]]]]), torch.tensor([[[[-1.0]]]])
    new_d, new_s = module(depth, sem)
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    if source == 'receiver':  # F_d + σ(g_d F_d) m_sd F_s ; F_s + σ(g_s F_s) m_ds F_d
        d = 0.4 + sig(1.0 * 0.4) * 3.0 * -1.0
        s = -1.0 + sig(-2.0 * -1.0) * 0.5 * 0.4
    else:  # F_d + σ(g_d F_s) m_sd F_s ; F_s + σ(g_s F_d) m_ds F_d
        d = 0.4 + sig(1.0 * -1.0) * 3.0 * -1.0
        s = -1.0 + sig(-2.0 * 0.4) * 0.5 * 0.4
    assert float(new_d) == pytest.approx(d, rel=1e-6)
    assert float(new_s) == pytest.approx(s, rel=1e-6)
    assert module.depth_gate.bias is None


def test_zero_initialised_gates_start_at_one_half():
    module = AttentionGuidedDistillation(4, gate_source='sender', bias=False,
                                         zero_init_gate=True)
    gate_d, gate_s = module.gates(torch.randn(1, 4, 5, 5), torch.randn(1, 4, 5, 5))
    assert torch.equal(gate_d, torch.full_like(gate_d, 0.5))
    assert torch.equal(gate_s, torch.full_like(gate_s, 0.5))
    with pytest.raises(ValueError, match='gate_source'):
        AttentionGuidedDistillation(4, gate_source='both')


# ------------------------------------------------------------ SDE loss branches
def labelled_with_frames(model):
    """A branched batch whose labelled samples carry sequence frames too."""
    def with_frames(k):
        sample = labelled_sample(k)
        twin = unlabelled_sample(k)
        sample.set_metainfo(dict(frame_ids=(-1, 1)))
        sample.frames = twin.frames
        sample.intrinsics = twin.intrinsics
        return sample

    data = dict(
        labelled=dict(inputs=[texture(0, 1.0), texture(3, 2.0)],
                      data_samples=[with_frames(0), with_frames(1)]),
        unlabelled=dict(inputs=[texture(0, 0.0), texture(5, 0.5)],
                        data_samples=[unlabelled_sample(0), unlabelled_sample(1)]))
    out = model.data_preprocessor(data, training=True)
    return out['inputs'], out['data_samples']


def test_sde_loss_on_the_labelled_branch_too():
    model = build(unlabelled_loss=None, depth_loss_weight=1.0,
                  depth_loss_branches=('labelled', 'unlabelled')).train()
    inputs, samples = labelled_with_frames(model)
    losses = model.loss(inputs, samples)
    depth_keys = [k for k in losses if k.startswith('loss_') and k != 'loss_sem']
    assert any(k.endswith('_labelled') for k in depth_keys)
    unl = {k for k in depth_keys if not k.endswith('_labelled')}
    assert unl and {f'{k}_labelled' for k in unl} <= set(depth_keys)
    # the labelled terms are the SDE loss of the labelled images alone
    only = build(unlabelled_loss=None, depth_loss_weight=1.0,
                 depth_loss_branches=('unlabelled', )).train()
    only.load_state_dict(model.state_dict())
    swapped = dict(labelled=inputs['labelled'], unlabelled=inputs['labelled'])
    swapped_s = dict(labelled=samples['labelled'], unlabelled=samples['labelled'])
    reference = only.loss(swapped, swapped_s)
    for k in unl:
        assert float(losses[f'{k}_labelled']) == pytest.approx(float(reference[k]),
                                                               rel=1e-5)
    with pytest.raises(ValueError, match='depth_loss_branches'):
        build(depth_loss_branches=('source', ))



# ------------------------------------------------------------ the configs
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SDESEG_CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO, 'configs/sdeseg/**/*.py'), recursive=True)
    if not osp.basename(p).startswith('_'))
SSL_CONFIGS = [p for p in SDESEG_CONFIGS
               if Config.fromfile(p).model.type == 'MeanTeacherDepthSegEstimator']
G_U_ONLY = ('classmix', 'pseudo_labels')  # the release's only_unlabeled rows
# rows the release trains without PAD-Net (experiments.py id 210)
SINGLE_TASK_ROWS = ('ssl_baseline', 'ssl_pseudo_labels', 'ssl_classmix', 'ssl_depthmix',
                    'ssl_transfer')


def pipeline_types(dataset_cfg):
    return [t['type'] for t in dataset_cfg.pipeline]


def test_every_ssl_config_is_checked():
    names = {osp.basename(p) for p in SSL_CONFIGS}
    assert {'ssl_ours_resnet101_cityscapes.py', 'ssl_classmix_resnet101_cityscapes.py',
            'ssda_gta5_to_cityscapes_resnet101.py', 'ssl_ours_resnet101_camvid.py',
            'ssl_depthmix_resnet18_synthetic.py'} <= names


@pytest.mark.parametrize('path', SSL_CONFIGS,
                         ids=[osp.relpath(p, REPO) for p in SSL_CONFIGS])
def test_ssl_configs_take_the_released_rules(path):
    cfg = Config.fromfile(path)
    m, name = cfg.model, osp.basename(path)
    assert m.teacher_warmup is True and m.teacher_mode == 'train'
    assert m.q_prime_over == 'batch' and m.unlabelled_loss_average == 'all'
    assert m.augment_per == 'batch' and m.blur_kernel_size == 'auto'
    assert m.color_jitter == dict(brightness=0.25, contrast=0.25, saturation=0.25,
                                  hue=0.25)
    assert (m.color_jitter_prob, m.blur_prob) == (0.8, 0.5)
    assert tuple(m.blur_sigma) == (0.15, 1.15)
    ssda = name.startswith('ssda_')
    # the released SSDA trainer computes the SDE loss on the labelled target only
    assert tuple(m.depth_loss_branches) == (
        ('labelled', ) if ssda else ('labelled', 'unlabelled'))
    assert m.align_corners is True and m.scale_weighting == 'mean'
    if name.startswith(SINGLE_TASK_ROWS) and name.endswith('_resnet101_cityscapes.py'):
        # the release's JointSegDepthDecoder rows (test_sdeseg_single_task_rows.py)
        assert not m.cross_task_blocks and tuple(m.sem_decoder.side_outputs) == ()
    else:
        (block, gate), = m.cross_task_blocks.items()
        assert int(block) == 2
        assert (gate.gate_source, gate.bias, gate.zero_init_gate) == (
            'sender', False, True)
        # the release's intermediate segmentation head at the distillation block
        assert tuple(m.sem_decoder.side_outputs) == (2, )
    keys = cfg.optim_wrapper.paramwise_cfg.custom_keys
    assert keys.depth_decoder.lr_mult == pytest.approx(10.0)
    data = cfg.train_dataloader.dataset
    if any(k in name for k in G_U_ONLY):
        assert m.mix_partner == 'unlabelled'
        assert data.exclude_labelled is True and not data.get('mark_labelled')
    else:
        assert m.mix_partner == 'pool'
        assert data.mark_labelled is True and not data.get('exclude_labelled')
        assert 'LoadSemAnnotation' in pipeline_types(data.unlabelled)
        assert data.unlabelled.get('with_seg', True) is True
    if 'classmix' in name:
        assert m.mix.rounding == 'floor'
    if m.depth_loss_weight > 0:
        for branch in ((data.labelled, ) if ssda else (data.labelled, data.unlabelled)):
            assert 'LoadNeighbourFrames' in pipeline_types(branch)
            assert tuple(branch.frame_ids) == (-1, 1)
    if ssda and 'resnet101' in name:  # the released SSDA rules (cd541578)
        assert m.mix_depth == 'estimate' and m.mix.disparity_norm == 'none'
        assert m.cross_domain_q_prime == 'target_share'
        assert m.cross_domain_epsilon_flip_prob == pytest.approx(0.5)
        assert m.cross_domain_augment_per == 'switches'
        assert 'LoadNeighbourFrames' not in pipeline_types(data.unlabelled)
        for branch in (data.unlabelled, data.source.source):
            loads = [t for t in branch.pipeline if t['type'] == 'LoadDepthEstimate']
            assert [t['encoding'] for t in loads] == ['normalised_disparity']
            resize, = [t for t in branch.pipeline if t['type'] == 'Resize']
            assert tuple(resize['scale']) == (1024, 512)
        assert data.source.estimate_encoding == 'normalised_disparity'
        assert data.source.normalise == 'none'
        assert data.source.candidates_with_replacement is True
        assert data.source.source.indices in (24466, 8900)  # last 500 held out
    # no Monodepth2 colour jitter before the mix (the release sets no color_aug)
    assert 'ColorJitter' not in pipeline_types(data.unlabelled)


@pytest.mark.parametrize('name', ['sde_stage_a_resnet101_cityscapes.py',
                                  'sde_stage_b_resnet101_cityscapes.py',
                                  'demo/sde_stage_a_resnet18_synthetic.py'])
def test_sde_pretraining_configs_use_the_released_monodepth_loss(name):
    m = Config.fromfile(osp.join(REPO, 'configs/sdeseg', name)).model
    assert m.align_corners is True and m.scale_weighting == 'mean'


def test_the_paper_literal_forms_stay_one_option_away():
    cfg = Config.fromfile(osp.join(REPO, 'configs/sdeseg/ssl_ours_resnet101_cityscapes.py'))
    cfg.merge_from_dict({
        'model.mix_partner': 'labelled', 'model.teacher_warmup': False,
        'model.teacher_mode': 'eval', 'model.q_prime_over': 'image',
        'model.unlabelled_loss_average': 'non_ignore',
        'model.depth_loss_branches': ('unlabelled', ), 'model.augment_per': 'image',
        'model.blur_kernel_size': 5,
        'optim_wrapper.paramwise_cfg.custom_keys.depth_decoder.lr_mult': 1.0})
    model_cfg = cfg.model.copy()
    model_cfg.backbone = dict(model_cfg.backbone, model_name='resnet18')
    model_cfg.depth_decoder = dict(model_cfg.depth_decoder, in_channels=ENC_18)
    model_cfg.sem_decoder = dict(model_cfg.sem_decoder, in_channels=ENC_18)
    model = MODELS.build(model_cfg_without_downloads(model_cfg))
    assert type(model.teacher) is ExponentialMovingAverage
    assert (model.mix_partner, model.teacher_mode, model.q_prime_over,
            model.augment_per) == ('labelled', 'eval', 'image', 'image')
    assert model.blur_kernel((512, 512)) == (5, 5)
