"""Pins of the training-step speed-ups (docs/benchmarks.md, "Profiling the training
steps"): each faster form against the straightforward computation it replaced."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.models.decode_heads.decode_head import BaseDecodeHead

from mmdepthsem.models.decode_heads import DSSSemHead
from mmdepthsem.models.losses import (PhotometricReprojectionLoss, photometric_error,
                                      semantic_triplet_loss, ssim_map,
                                      triplet_patch_masks)
from mmdepthsem.structures import DepthSemDataSample
from mmdepthsem.utils import register_all_modules

register_all_modules()


def _dense_triplet(feat, labels, k=5, margin=0.3):
    """The unfold-everything form: all K*K neighbours of every pixel."""
    b, c, h, w = feat.shape
    pos, neg, counted = triplet_patch_masks(labels, k)
    feat = F.normalize(feat, dim=1)
    patches = F.unfold(feat, k, padding=k // 2).view(b, c, k * k, h * w)
    dist = (patches - feat.flatten(2)[:, :, None]).norm(dim=1)      # (B, K*K, hw)
    d_pos = (dist * pos).sum(1) / pos.sum(1).clamp(min=1)
    d_neg = (dist * neg).sum(1) / neg.sum(1).clamp(min=1)
    return (d_pos - d_neg + margin).clamp(min=0)[counted].mean()


def test_triplet_gather_matches_dense_unfold_with_gradients():
    torch.manual_seed(0)
    yy, xx = torch.meshgrid(torch.arange(12), torch.arange(17), indexing='ij')
    labels = torch.stack([(xx // 4 + yy // 3) % 3, (xx // 5) % 2 + 2 * (yy > 6)])
    labels[0, 2, 3] = labels[1, 7, 9] = 255
    feat = torch.randn(2, 6, 12, 17, dtype=torch.float64, requires_grad=True)
    loss, count = semantic_triplet_loss(feat, labels)
    ref = _dense_triplet(feat, labels)
    assert count.item() > 20
    torch.testing.assert_close(loss, ref)
    grad, = torch.autograd.grad(loss, feat)
    ref_grad, = torch.autograd.grad(ref, feat)
    assert grad.abs().max() > 0
    torch.testing.assert_close(grad, ref_grad)


def test_stacked_photometric_error_equals_per_frame_errors():
    torch.manual_seed(0)
    target = torch.rand(2, 3, 9, 11)
    views = torch.rand(2, 3, 3, 9, 11)
    stacked = photometric_error(views, target[:, None])                  # (B, N, h, w)
    per_frame = torch.cat([photometric_error(views[:, n], target) for n in range(3)],
                          dim=1)
    assert stacked.shape == (2, 3, 9, 11)
    assert torch.equal(stacked, per_frame)  # same operations, bit for bit
    assert torch.equal(ssim_map(views, target[:, None])[:, 1],
                       ssim_map(views[:, 1], target))
    with pytest.raises(ValueError, match='differ'):
        ssim_map(views, target[:, None, :, :-1])
    # the module's identity errors are the stacked errors of the unwarped sources
    module = PhotometricReprojectionLoss()
    assert torch.equal(module.identity_errors(target, views), stacked)


def _samples(labels):
    return [DepthSemDataSample(gt_sem_seg=PixelData(data=lab[None])) for lab in labels]


@pytest.mark.parametrize('factor', [4, 2])
def test_dss_sem_head_losses_match_mmseg_loss_by_feat(factor):
    # factor 4: logits already at the label size (no resize); 2: resized
    torch.manual_seed(0)
    head = DSSSemHead(in_channels=8, num_classes=5, upsample_factor=factor)
    labels = torch.randint(0, 5, (2, 12, 16))
    labels[:, :2] = 255
    logits = head(torch.randn(2, 8, 3, 4)).detach().requires_grad_()
    ours = head.loss_by_feat(logits, _samples(labels))
    theirs = BaseDecodeHead.loss_by_feat(head, logits, _samples(labels))
    assert set(ours) == set(theirs) == {'loss_jaccard', 'acc_seg'}
    torch.testing.assert_close(ours['loss_jaccard'], theirs['loss_jaccard'])
    torch.testing.assert_close(ours['acc_seg'].reshape(()),
                               theirs['acc_seg'].reshape(()).float())
    assert 0 < ours['acc_seg'] < 100
    g_ours, = torch.autograd.grad(ours['loss_jaccard'], logits)
    g_theirs, = torch.autograd.grad(theirs['loss_jaccard'], logits)
    torch.testing.assert_close(g_ours, g_theirs)
