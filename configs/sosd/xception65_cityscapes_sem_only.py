# Semantic-only baseline (Table 1): mIoU 62.0 in the paper.
_base_ = ['./xception65_cityscapes_mtl.py']
model = dict(depth_head=None)
val_evaluator = [dict(type='IoUMetric', iou_metrics=['mIoU'])]
test_evaluator = val_evaluator
