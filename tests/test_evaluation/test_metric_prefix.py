"""mmdepthsem's IoUMetric and DepthMetric declare their result-key prefix, so building
them logs no "The prefix is not set" warning, and their keys stay the bare names the
configs use."""
import logging
import uuid

import torch
from mmengine.logging import MMLogger

from mmdepthsem.registry import METRICS
from mmdepthsem.utils import register_all_modules


class _Records(logging.Handler):

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _built_with_log(cfg: dict):
    """Build ``cfg`` with a fresh current MMLogger (its duplicate-warning filter has
    seen nothing yet) and return the metric and the messages logged."""
    logger = MMLogger.get_instance(f'metric_prefix_{uuid.uuid4().hex}')
    records = _Records()
    logger.addHandler(records)
    try:
        metric = METRICS.build(cfg)
    finally:
        logger.removeHandler(records)
    return metric, records.messages


def _evaluate(metric) -> dict:
    metric.dataset_meta = dict(classes=('a', 'b'))
    labels = torch.tensor([[[0, 1], [1, 1]]])
    metric.process({}, [dict(pred_sem_seg=dict(data=labels),
                             gt_sem_seg=dict(data=labels))])
    return metric.evaluate(1)


def test_iou_metric_sets_no_prefix_without_a_warning():
    register_all_modules()
    metric, messages = _built_with_log(dict(type='IoUMetric'))
    assert not [m for m in messages if 'prefix is not set' in m], messages
    results = _evaluate(metric)
    assert results['mIoU'] == 100.0 and 'aAcc' in results


def test_iou_metric_prefix_argument_still_prefixes():
    register_all_modules()
    metric, _ = _built_with_log(dict(type='IoUMetric', prefix='iou'))
    results = _evaluate(metric)
    assert results['iou/mIoU'] == 100.0 and 'mIoU' not in results


def _evaluate_depth(metric) -> dict:
    depth = torch.tensor([[[2.0, 4.0]]])
    metric.process({}, [dict(pred_depth_map=dict(data=depth),
                             gt_depth_map=dict(data=depth), img_path='a.png')])
    return metric.evaluate(1)


def test_depth_metric_sets_no_prefix_without_a_warning():
    register_all_modules()
    metric, messages = _built_with_log(dict(type='DepthMetric', max_depth=10.0))
    assert not [m for m in messages if 'prefix is not set' in m], messages
    assert _evaluate_depth(metric)['abs_rel'] == 0.0
    prefixed, _ = _built_with_log(dict(type='DepthMetric', max_depth=10.0,
                                       prefix='depth'))
    results = _evaluate_depth(prefixed)
    assert results['depth/abs_rel'] == 0.0 and 'abs_rel' not in results
