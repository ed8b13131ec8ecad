# Semantic-only baseline (Table 2): the MTL network with the depth head removed
# (paper: mIoU 38.5, mean acc 59.1, pixel acc 68.7).
_base_ = ['./xception65_nyu_mtl.py']
model = dict(depth_head=None)
val_evaluator = [dict(type='IoUMetric', iou_metrics=['mIoU'])]
test_evaluator = val_evaluator
