# FSRE Table 1b, row 3 (+ L_CE + L_SGT): semantic decoder plus the semantics-guided
# triplet loss on decoder blocks b = 3, 2, 1 (the paper's l = 1, 2, 3; K = 5,
# m = 0.3, delta = 0.1), no CMA. The triplet loss reads only the pseudo-labels and
# the depth decoder's features. Also the default row of Table 3 (l = 1-3, K = 5).
# Changes from ../resnet18_kitti.py: no CMA. Paper: AbsRel 0.108, SqRel 0.755,
# RMSE 4.618, RMSlog 0.186, d1 0.882, d2 0.962, d3 0.983.
_base_ = ['../resnet18_kitti.py']
model = dict(cross_task_blocks=None)
