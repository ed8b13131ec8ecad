"""DSS heads (eq. 6): depth Conv3x3 -> sigmoid -> x4 -> * max_depth; semantics
Conv3x3 -> logits -> x4."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData

from mmdepthsem.models.decode_heads import DepthHead, DSSSemHead
from mmdepthsem.models.losses import jaccard_loss
from mmdepthsem.structures import DepthSemDataSample
from mmdepthsem.utils import register_all_modules

register_all_modules()


def test_depth_head_upsamples_x4_bilinearly():
    torch.manual_seed(0)
    head = DepthHead(in_channels=8, upsample_factor=4, max_depth=10.0)
    plain = DepthHead(in_channels=8, max_depth=10.0)
    plain.load_state_dict(head.state_dict())
    assert plain.upsample_factor == 1 and head.conv_depth.kernel_size == (3, 3)
    x = torch.randn(2, 8, 5, 6)
    with torch.no_grad():
        out, low = head(x), plain(x)
    assert low.shape == (2, 1, 5, 6) and out.shape == (2, 1, 20, 24)
    torch.testing.assert_close(out, F.interpolate(low, scale_factor=4, mode='bilinear',
                                                  align_corners=False))
    # sigmoid(conv) * max_depth before upsampling
    torch.testing.assert_close(low, torch.sigmoid(head.conv_depth(x)) * 10.0)


def test_depth_output_lies_in_zero_max_depth():
    head = DepthHead(in_channels=4, upsample_factor=4, max_depth=80.0)
    x = torch.randn(2, 4, 3, 3) * 10
    with torch.no_grad():
        typical = head(x)
        head.conv_depth.bias.fill_(100.0)
        high = head(x)
        head.conv_depth.bias.fill_(-30.0)
        low = head(x)
    for depth in (typical, high, low):
        assert depth.min() > 0 and depth.max() <= 80.0
    assert high.max() == 80.0 and low.max() < 1e-3


def test_depth_head_rejects_bad_factor():
    with pytest.raises(ValueError, match='upsample_factor'):
        DepthHead(in_channels=4, upsample_factor=0)


def _sample(labels, field):
    sample = DepthSemDataSample()
    setattr(sample, field, PixelData(data=labels))
    return sample


def test_sem_head_is_a_3x3_conv_upsampled_x4():
    head = DSSSemHead(in_channels=8, num_classes=5)
    assert head.conv_seg.kernel_size == (3, 3) and head.conv_seg.out_channels == 5
    x = torch.randn(2, 8, 4, 6)
    with torch.no_grad():
        logits = head((x, ))
        expected = F.interpolate(head.conv_seg(x), scale_factor=4, mode='bilinear',
                                 align_corners=False)
    assert logits.shape == (2, 5, 16, 24)
    torch.testing.assert_close(logits, expected)
    out = head.predict((x, ), [dict(img_shape=(16, 24))], None)
    assert out.shape == (2, 5, 16, 24)


def test_sem_head_trains_on_pseudo_labels_with_jaccard():
    torch.manual_seed(0)
    head = DSSSemHead(in_channels=8, num_classes=5, label_field='gt_pseudo_sem_seg')
    x = torch.randn(2, 8, 4, 6, requires_grad=True)
    labels = torch.randint(0, 5, (2, 1, 16, 24))
    labels[:, :, :2] = 255
    samples = [_sample(labels[i], 'gt_pseudo_sem_seg') for i in range(2)]
    losses = head.loss((x, ), samples, None)
    assert set(losses) == {'loss_jaccard', 'acc_seg'}
    with torch.no_grad():
        expected = jaccard_loss(head((x, )), labels[:, 0], ignore_index=255)
    torch.testing.assert_close(losses['loss_jaccard'], expected)
    losses['loss_jaccard'].backward()
    assert x.grad.abs().sum() > 0
    with pytest.raises(KeyError, match='gt_pseudo_sem_seg'):
        head.loss((x, ), [_sample(labels[0], 'gt_sem_seg')], None)
