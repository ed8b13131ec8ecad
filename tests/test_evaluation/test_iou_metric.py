"""IoUMetric with eval_classes and gt_key, against confusion areas worked out by hand."""
import pytest
import torch
from mmseg.evaluation import IoUMetric as MMSegIoUMetric

import mmdepthsem.evaluation.metrics.iou_metric as iou_module
from mmdepthsem.evaluation.metrics import IoUMetric
from mmdepthsem.registry import METRICS

META = dict(classes=('a', 'b', 'c'), palette=[[0, 0, 0], [1, 1, 1], [2, 2, 2]])
# Five labelled pixels (255 is ignored, whatever is predicted there).
GT = [[0, 0, 1], [1, 2, 255]]
PRED = [[0, 1, 1], [1, 0, 2]]
# class a: gt 2, pred 2, hit 1 -> IoU 1/3, Acc 1/2
# class b: gt 2, pred 3, hit 2 -> IoU 2/3, Acc 1
# class c: gt 1, pred 0, hit 0 -> IoU 0,   Acc 0
# aAcc 3/5


def sample(pred=PRED, gt=GT, **extra):
    out = {
        'pred_sem_seg': {'data': torch.tensor(pred)[None]},
        'gt_sem_seg': {'data': torch.tensor(gt)[None]},
        'img_path': 'x.png',
    }
    out.update({k: {'data': torch.tensor(v)[None]} for k, v in extra.items()})
    return out


def run(metric, samples):
    metric.dataset_meta = META
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def test_registered_name_resolves_to_ours():
    assert isinstance(METRICS.build(dict(type='IoUMetric')), IoUMetric)


def test_defaults_match_mmseg():
    ours = run(IoUMetric(iou_metrics=['mIoU', 'mDice']), [sample()])
    theirs = run(MMSegIoUMetric(iou_metrics=['mIoU', 'mDice']), [sample()])
    assert ours == pytest.approx(theirs)
    assert ours['mIoU'] == pytest.approx(33.33)
    assert ours['mAcc'] == pytest.approx(50.0)
    assert ours['aAcc'] == pytest.approx(60.0)


@pytest.mark.parametrize('eval_classes', [[0, 1], ['a', 'b'], ['b', 'a', 1]])
def test_subset_summary(eval_classes):
    result = run(IoUMetric(eval_classes=eval_classes), [sample()])
    assert result['mIoU'] == pytest.approx(50.0)  # (1/3 + 2/3) / 2
    assert result['mAcc'] == pytest.approx(75.0)  # (1/2 + 1) / 2
    assert result['aAcc'] == pytest.approx(60.0)  # all labelled pixels
    assert result['mIoU_all'] == pytest.approx(33.33)
    assert result['mAcc_all'] == pytest.approx(50.0)


def test_subset_summary_accumulates_over_samples():
    # Second sample: five labelled 'c' pixels, all predicted right.
    second = sample(pred=[[2, 2, 2], [2, 2, 0]], gt=[[2, 2, 2], [2, 2, 255]])
    result = run(IoUMetric(eval_classes=['b', 'c']), [sample(), second])
    # c: gt 1 + 5 = 6, pred 0 + 5 = 5, hit 0 + 5 = 5 -> IoU 5/6; b unchanged 2/3.
    assert result['mIoU'] == pytest.approx(round((2 / 3 + 5 / 6) / 2 * 100, 2))


def test_bad_eval_classes():
    with pytest.raises(ValueError, match=r"unknown class 'd'.*\('a', 'b', 'c'\)|"
                                         r"unknown class 'd'.*\['a', 'b', 'c'\]"):
        run(IoUMetric(eval_classes=['a', 'd']), [sample()])
    with pytest.raises(ValueError, match='index 3 is outside 0..2'):
        run(IoUMetric(eval_classes=[3]), [sample()])
    with pytest.raises(ValueError, match='must not be empty'):
        IoUMetric(eval_classes=[])


def test_gt_key_scores_against_pseudo_labels(monkeypatch):
    logged = []
    monkeypatch.setattr(iou_module, 'print_log', lambda msg, *a, **k: logged.append(msg))
    # The real ground truth equals the prediction; the pseudo-labels are GT above.
    data = sample(gt=[[0, 1, 1], [1, 0, 2]], gt_pseudo_sem_seg=GT)
    assert run(IoUMetric(), [data])['mIoU'] == pytest.approx(100.0)
    assert any('ground truth (gt_sem_seg)' in m for m in logged)
    logged.clear()
    result = run(IoUMetric(gt_key='gt_pseudo_sem_seg'), [data])
    assert result['mIoU'] == pytest.approx(33.33)
    assert any('gt_pseudo_sem_seg, not the ground truth' in m for m in logged)


def test_missing_gt_key_is_named():
    with pytest.raises(KeyError, match='gt_pseudo_sem_seg'):
        run(IoUMetric(gt_key='gt_pseudo_sem_seg'), [sample()])
