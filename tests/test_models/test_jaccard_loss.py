"""Jaccard loss (DSS eq. 9) against hand computations."""
import math

import pytest
import torch

from mmdepthsem.models.losses import JaccardLoss, jaccard_loss
from mmdepthsem.registry import MODELS
from mmdepthsem.utils import register_all_modules

register_all_modules()


def _logits(probs):
    """(B, H, W, C) probabilities -> (B, C, H, W) logits with that softmax;
    probability 0 becomes a logit of -1e4 (softmax underflows to exactly 0)."""
    probs = torch.as_tensor(probs, dtype=torch.float64)
    logits = torch.where(probs > 0, probs.clamp(min=1e-300).log(),
                         torch.full_like(probs, -1e4))
    return logits.permute(0, 3, 1, 2).contiguous()


# 2x2 image: targets [[0, 1], [ignored, 0]]; class 2 is absent and never predicted.
PROBS = [[[[0.7, 0.3, 0.0], [0.4, 0.6, 0.0]],
          [[0.5, 0.5, 0.0], [0.9, 0.1, 0.0]]]]
TARGET = torch.tensor([[[0, 1], [255, 0]]])


def test_absent_class_and_ignored_pixel_by_hand():
    loss = jaccard_loss(_logits(PROBS), TARGET, ignore_index=255)
    # class 0: I = 0.7 + 0.9, sum p = 2.0, count 2 -> U = 2.4
    # class 1: I = 0.6, sum p = 1.0, count 1 -> U = 1.4
    # class 2: absent and zero mass -> left out of the mean
    expected = 1 - ((1.6 + 1) / (2.4 + 1) + (0.6 + 1) / (1.4 + 1)) / 2
    assert loss.item() == pytest.approx(expected, abs=1e-12)
    assert expected == pytest.approx(0.2843137, abs=1e-6)


def test_absent_class_counts_only_where_it_is_predicted():
    # class 2 is absent from the target and has mass 0.4 but is nobody's argmax:
    # left out (a softmax gives every class some mass)
    probs = [[[[0.6, 0.3, 0.1], [0.3, 0.5, 0.2]],
              [[0.5, 0.5, 0.0], [0.8, 0.1, 0.1]]]]
    loss = jaccard_loss(_logits(probs), TARGET, ignore_index=255)
    iou0 = (0.6 + 0.8 + 1) / (1.7 + 2 - 1.4 + 1)
    iou1 = (0.5 + 1) / (0.9 + 1 - 0.5 + 1)
    assert loss.item() == pytest.approx(1 - (iou0 + iou1) / 2, abs=1e-12)
    # now pixel (0, 1) predicts class 2: a false positive, counted
    probs = [[[[0.6, 0.3, 0.1], [0.2, 0.3, 0.5]],
              [[0.5, 0.5, 0.0], [0.8, 0.1, 0.1]]]]
    loss = jaccard_loss(_logits(probs), TARGET, ignore_index=255)
    iou0 = (0.6 + 0.8 + 1) / (1.6 + 2 - 1.4 + 1)
    iou1 = (0.3 + 1) / (0.7 + 1 - 0.3 + 1)
    iou2 = (0 + 1) / (0.7 + 0 - 0 + 1)  # absent from the target, mass 0.7
    assert loss.item() == pytest.approx(1 - (iou0 + iou1 + iou2) / 3, abs=1e-12)


def test_classes_neither_present_nor_predicted_do_not_dilute_the_loss():
    # 150 classes as with an ADE20K teacher: the loss is the one of the 2 classes
    # in play, whatever the others' (small, non-zero) mass
    torch.manual_seed(0)
    logits = torch.randn(1, 150, 4, 4, dtype=torch.float64) - 8
    logits[:, :2] += 10
    target = torch.randint(0, 2, (1, 4, 4))
    loss = jaccard_loss(logits, target)
    probs = logits.softmax(1)[0].reshape(150, -1)
    onehot = torch.nn.functional.one_hot(target.reshape(-1), 150).T.double()
    inter, mass, count = (probs * onehot).sum(1), probs.sum(1), onehot.sum(1)
    iou = (inter + 1) / (mass + count - inter + 1)
    assert probs[2:].min() > 0
    assert loss.item() == pytest.approx(1 - iou[:2].mean().item(), abs=1e-12)
    assert loss.item() > 5 * (1 - iou.mean().item())  # the literal all-class mean


def test_sums_over_the_whole_batch_not_per_image():
    torch.manual_seed(0)
    logits = torch.randn(2, 4, 3, 5, dtype=torch.float64)
    target = torch.randint(0, 4, (2, 3, 5))
    target[0, 0, 0] = 255
    batched = jaccard_loss(logits, target)
    # the same pixels as one image side by side
    side_by_side = jaccard_loss(torch.cat(list(logits), dim=-1)[None],
                                torch.cat(list(target), dim=-1)[None])
    per_image = (jaccard_loss(logits[:1], target[:1]) +
                 jaccard_loss(logits[1:], target[1:])) / 2
    assert batched.item() == pytest.approx(side_by_side.item(), abs=1e-12)
    assert abs(batched.item() - per_image.item()) > 1e-4


def test_perfect_prediction_and_all_ignored():
    target = torch.tensor([[[0, 1], [2, 1]]])
    perfect = torch.nn.functional.one_hot(target, 3).permute(0, 3, 1, 2) * 60.0
    assert jaccard_loss(perfect.float(), target).item() == pytest.approx(0, abs=1e-6)
    logits = torch.randn(1, 3, 2, 2, requires_grad=True)
    loss = jaccard_loss(logits, torch.full((1, 2, 2), 255))
    loss.backward()
    assert loss.item() == 0.0 and torch.all(logits.grad == 0)


def test_gradient_raises_the_true_class():
    logits = torch.zeros(1, 3, 2, 2, requires_grad=True)
    target = torch.tensor([[[0, 1], [2, 0]]])
    jaccard_loss(logits, target).backward()
    onehot = torch.nn.functional.one_hot(target, 3).permute(0, 3, 1, 2).bool()
    assert torch.all(logits.grad[onehot] < 0) and torch.all(logits.grad[~onehot] > 0)


def test_module_follows_mmseg_conventions():
    loss = MODELS.build(dict(type='JaccardLoss', loss_weight=2.0))
    assert isinstance(loss, JaccardLoss) and loss.loss_name == 'loss_jaccard'
    logits = _logits(PROBS).float()
    single = jaccard_loss(logits, TARGET)
    torch.testing.assert_close(loss(logits, TARGET, weight=None, ignore_index=255),
                               2 * single)
    # a head's ignore_index wins over the default
    other = torch.tensor([[[0, 1], [7, 0]]])
    torch.testing.assert_close(loss(logits, other, ignore_index=7), 2 * single)
    with pytest.raises(NotImplementedError, match='weights'):
        loss(logits, TARGET, weight=torch.ones(1, 2, 2))


def test_bad_labels_are_named():
    with pytest.raises(ValueError, match=r'labels must be in \[0, 3\)'):
        jaccard_loss(torch.randn(1, 3, 2, 2), torch.tensor([[[0, 1], [5, 0]]]))
    assert math.isfinite(jaccard_loss(torch.randn(1, 3, 2, 2),
                                      torch.tensor([[[0, 1], [2, 0]]])).item())
