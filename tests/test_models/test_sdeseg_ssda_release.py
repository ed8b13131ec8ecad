"""SDE-Seg's released SSDA rules for Cross-Domain DepthMix, each against eq. 10/20.

The released domain-adaptation trainer (commit cd541578, ``train_step_domain_mixing``)
weights the cross-domain mix by a pixel map — 1 on source pixels, ``q_t`` on target
pixels, ``q_t`` the confident share of the un-mixed target images — instead of eq.
20's ``q'`` of the mixed confidences, and negates DepthMix's margin ε for each source
image with probability 0.5 (docs/sdeseg.md, SSDA table).
"""
import math

import pytest
import torch

from .test_mean_teacher_estimator import (C, H, LEFT, NEAR_LEFT, NEAR_RIGHT, W,
                                          build, fake_teacher, labelled_sample,
                                          set_sem_head, texture, unlabelled_sample)
from .test_mean_teacher_estimator import one_thread  # noqa: F401 (autouse fixture)

TAU = 0.968


def ssda_batch(model, source_depth, target_depth, pool_labelled=(False, False)):
    """2 labelled + 2 unlabelled (pool) target images + 2 source images."""
    unl = [unlabelled_sample(k, target_depth) for k in range(2)]
    for sample, flag in zip(unl, pool_labelled):
        sample.set_metainfo(dict(is_labelled=flag))
    data = dict(
        labelled=dict(inputs=[texture(0, 1.0), texture(3, 2.0)],
                      data_samples=[labelled_sample(0), labelled_sample(1)]),
        unlabelled=dict(inputs=[texture(0, 0.0), texture(5, 0.5)], data_samples=unl),
        source=dict(inputs=[texture(1, 3.0), texture(2, 4.0)],
                    data_samples=[labelled_sample(k, source_depth) for k in range(2)]))
    out = model.data_preprocessor(data, training=True)
    return out['inputs'], out['data_samples']


def confident_left_teacher():
    """Teacher logits: class 0 at 10 on the left half (P ≈ 1 > τ), uniform on the
    right (P = 1 / C < τ): the confident share of the target batch is 1/2."""
    logits = torch.zeros(2, C, H, W)
    logits[:, 0][:, LEFT] = 10.0
    return logits


def build_ssda(**overrides):
    cfg = dict(mix_depth='estimate', depth_loss_weight=0.0, color_jitter=None,
               blur_sigma=None, mix_partner='unlabelled',
               unlabelled_loss_average='all')
    cfg.update(overrides)
    model = build(**cfg).train()
    set_sem_head(model, weight=0.0, bias=[0.0] * C)  # student CE = ln C everywhere
    fake_teacher(model, confident_left_teacher())
    return model


@pytest.mark.parametrize('rule', ['mixed', 'target_share'])
def test_cross_domain_weight_by_hand(rule):
    """Source nearer on the right, target nearer on the left: the source keeps the
    right half. 'target_share': weight 1 on the right, q_t = 1/2 on the left, so the
    loss is ln C · 3/4. 'mixed' (eq. 20): P' = 1 right, ≈ 1 left (the teacher is
    confident exactly where the target is kept), q' = 1, loss ln C."""
    model = build_ssda(cross_domain_q_prime=rule)
    inputs, samples = ssda_batch(model, NEAR_RIGHT, NEAR_LEFT)
    losses = model.loss(inputs, samples)
    assert float(losses['mix_ratio_cross_domain']) == pytest.approx(0.5)
    share = 0.75 if rule == 'target_share' else 1.0
    assert float(losses['q_prime_cross_domain']) == pytest.approx(share)
    assert float(losses['loss_sem_cross_domain']) == pytest.approx(
        share * math.log(C), rel=1e-5)
    # the target-domain mix keeps eq. 14's q' either way
    assert 'loss_sem_unlabelled' in losses


def test_target_share_counts_pool_labels_as_certain_and_uses_at_least_tau():
    model = build_ssda(cross_domain_q_prime='target_share', confidence_comparison='ge')
    conf = torch.zeros(2, 2, 2)
    conf[0] = torch.tensor([[TAU, 0.5], [0.97, 0.1]])  # exactly tau counts (>=)
    conf[1] = 0.0  # a labelled pool member: certain everywhere
    samples = [unlabelled_sample(0), unlabelled_sample(1)]
    samples[0].set_metainfo(dict(is_labelled=False))
    samples[1].set_metainfo(dict(is_labelled=True))
    assert float(model._target_share(samples, conf)) == pytest.approx(6 / 8)


@pytest.mark.parametrize('flip_prob, ratio', [(0.0, 0.0), (1.0, 1.0)])
def test_cross_domain_margin_flip(flip_prob, ratio):
    """Equal depth maps: with +ε every tie goes to the source (mix ratio 0), with
    −ε to the target (ratio 1); the mixer's ε is restored afterwards."""
    model = build_ssda(cross_domain_epsilon_flip_prob=flip_prob)
    inputs, samples = ssda_batch(model, NEAR_LEFT, NEAR_LEFT)
    losses = model.loss(inputs, samples)
    assert float(losses['mix_ratio_cross_domain']) == pytest.approx(ratio)
    assert model.mixer.mixer.epsilon == pytest.approx(0.03)
    # the target-domain mix never flips: the same ties go to image k
    assert float(losses['mix_ratio']) == pytest.approx(0.0)


def test_half_flip_draws_per_image():
    torch.manual_seed(3)
    model = build_ssda(cross_domain_epsilon_flip_prob=0.5)
    inputs, samples = ssda_batch(model, NEAR_LEFT, NEAR_LEFT)
    seen = set()
    for _ in range(12):
        seen.add(round(float(model.loss(inputs, samples)['mix_ratio_cross_domain']), 3))
    assert seen <= {0.0, 0.5, 1.0} and 0.5 in seen


def test_options_are_checked():
    with pytest.raises(ValueError, match='cross_domain_q_prime'):
        build(cross_domain_q_prime='eq20')
    with pytest.raises(ValueError, match='cross_domain_epsilon_flip_prob'):
        build(cross_domain_epsilon_flip_prob=1.5)
    with pytest.raises(ValueError, match='epsilon'):
        build(cross_domain_epsilon_flip_prob=0.5,
              mix=dict(type='BatchClassMix'))


def test_synthia_ssda_trains_all_19_classes_on_the_target():
    """S8: the release's target labels keep terrain, truck and train (ids 9, 14, 16);
    the evaluation still reports the 13- and 16-class averages."""
    import os.path as osp

    from mmengine.config import Config

    from mmdepthsem.registry import TRANSFORMS
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(osp.join(
        repo, 'configs/sdeseg/ssda_synthia_to_cityscapes_resnet101.py'))
    data = cfg.train_dataloader.dataset
    for branch in (data.labelled, data.unlabelled):
        loads = [t for t in branch.pipeline if t['type'] == 'LoadSemAnnotation']
        assert len(loads) == 1 and loads[0].get('label_map') is None
        loader = TRANSFORMS.build(loads[0])
        assert loader.label_map is None
    assert {m.get('prefix', '') for m in cfg.val_evaluator} == {'', 'synthia16'}
    assert len(cfg.val_evaluator[0].eval_classes) == 13
    assert dict(cfg.synthia_ignored_label_map) == {9: 255, 14: 255, 16: 255}


def test_cross_domain_augmentation_draws_its_switches_once_and_sigma_per_image():
    """S10: the release's cross-domain mix decides jitter / blur once for the batch and
    draws σ per image; the target-domain mix keeps one draw for the batch."""
    model = build(color_jitter=None, blur_prob=0.5, blur_sigma=(0.2, 5.0),
                  blur_kernel_size='auto', augment_per='batch',
                  cross_domain_augment_per='switches')
    image = torch.rand(1, 3, H, W) * 255
    batch = image.expand(3, -1, -1, -1).clone()
    patterns = set()
    for seed in range(8):
        torch.manual_seed(seed)
        out = model.strong_augment(batch, 'switches')
        blurred = tuple(not torch.allclose(out[k], image[0]) for k in range(3))
        assert len(set(blurred)) == 1  # one switch for the batch
        if blurred[0]:
            assert not torch.allclose(out[0], out[1])  # σ per image
        patterns.add(blurred[0])
        torch.manual_seed(seed)
        same = model.strong_augment(batch)  # 'batch': σ shared too
        assert all(torch.allclose(same[0], same[k]) for k in (1, 2))
    assert patterns == {True, False}
    # the cross-domain loss asks for its own mode, the target mix for the default
    ssda = build_ssda(augment_per='batch', cross_domain_augment_per='switches')
    modes = []
    original = ssda.strong_augment

    def record(images, augment_per=None):
        modes.append(augment_per or ssda.augment_per)
        return original(images, augment_per)

    ssda.strong_augment = record
    inputs, samples = ssda_batch(ssda, NEAR_LEFT, NEAR_LEFT)
    ssda.loss(inputs, samples)
    assert sorted(modes) == ['batch', 'switches']
    with pytest.raises(ValueError, match='cross_domain_augment_per'):
        build(cross_domain_augment_per='pixel')


@pytest.mark.parametrize('comparison, expected', [('gt', [0.5, 0.25]),
                                                  ('ge', [0.75, 0.5])])
def test_confidence_comparison_at_exactly_tau(comparison, expected):
    """Eq. 14 counts P' > τ, the release max_probs.ge(τ): they differ only on
    pixels at exactly τ (here one per image)."""
    model = build_ssda(confidence_comparison=comparison, q_prime_over='image')
    tau = torch.tensor(model.confidence_threshold)
    conf = torch.tensor([[[tau, 0.99], [0.1, 0.97]],
                         [[tau, 0.2], [0.1, 0.97]]])
    assert model.q_prime(conf).tolist() == pytest.approx(expected)
    samples = [unlabelled_sample(0), unlabelled_sample(1)]
    for s in samples:
        s.set_metainfo(dict(is_labelled=False))
    assert float(model._target_share(samples, conf)) == pytest.approx(
        sum(expected) / 2)


def test_paper_configs_count_confidence_as_the_release():
    import os.path as osp

    from mmengine.config import Config
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    for name in ('ssl_ours_resnet101_cityscapes.py',
                 'ssl_depthmix_resnet101_cityscapes.py',
                 'ssda_gta5_to_cityscapes_resnet101.py'):
        m = Config.fromfile(osp.join(repo, 'configs/sdeseg', name)).model
        assert m.confidence_comparison == 'ge', name
    m = Config.fromfile(osp.join(
        repo, 'configs/sdeseg/ssda_synthia_to_cityscapes_resnet101.py')).model
    assert m.cross_domain_teacher_pass == 'separate'


@pytest.mark.parametrize('teacher_pass, calls', [('shared', 1), ('separate', 2)])
def test_cross_domain_teacher_pass(teacher_pass, calls):
    """'separate' labels the target images again for the cross-domain mix, as the
    released SSDA trainer does; with a deterministic teacher the losses agree."""
    model = build_ssda(cross_domain_teacher_pass=teacher_pass)
    set_sem_head(model, weight=0.0, bias=[0.0] * C)
    logits = confident_left_teacher()
    seen = []
    real = model.decode_parts

    def decode_parts(parts, inputs):
        if parts is model.teacher.module:
            seen.append(inputs.clone())
            return None, dict(outputs={0: logits})
        return real(parts, inputs)

    model.decode_parts = decode_parts
    model.train()
    inputs, samples = ssda_batch(model, NEAR_RIGHT, NEAR_LEFT)
    losses = model.loss(inputs, samples)
    assert len(seen) == calls
    assert all(torch.equal(seen[0], s) for s in seen)  # the same images each time
    assert float(losses['q_prime_cross_domain']) == pytest.approx(1.0)
    assert float(losses['loss_sem_cross_domain']) == pytest.approx(math.log(C),
                                                                   rel=1e-5)


def test_separate_teacher_pass_draws_new_dropout_masks():
    """With the release's ASPP dropout and a train-mode teacher, the two passes
    differ (new masks); with the teacher in eval mode they agree."""
    widths = (16, 16, 32, 32, 32)
    aspp = dict(channels=widths, aspp_skip_conv=True, aspp_fuse_kernel_size=1,
                aspp_fuse_dropout=0.5)
    for mode, differ in (('train', True), ('eval', False)):
        model = build(teacher_mode=mode, depth_decoder=dict(
            type='ASPPUNetDecoder', in_channels=(64, 64, 128, 256, 512),
            scales=(0, 1, 2, 3), **aspp), sem_decoder=dict(
            type='ASPPUNetDecoder', in_channels=(64, 64, 128, 256, 512),
            out_channels=C, out_activation=None, scales=(0, ), **aspp),
            cross_task_blocks={})
        x = torch.randn(2, 3, H, W)
        torch.manual_seed(1)
        _, conf_a = model.teacher_labels(x)
        _, conf_b = model.teacher_labels(x)
        assert (not torch.allclose(conf_a, conf_b)) == differ, mode
