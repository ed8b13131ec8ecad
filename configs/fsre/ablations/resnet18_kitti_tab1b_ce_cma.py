# FSRE Table 1b, row 4 (+ L_CE + CMA): semantic decoder plus bidirectional CMA after
# decoder blocks b = 4, 3, 2 (the paper's l = 0, 1, 2; H = 4), no triplet loss. Also
# the default row of Table 4 (targets depth and semantics, H = 4).
# Changes from ../resnet18_kitti.py: no triplet loss. Paper: AbsRel 0.107,
# SqRel 0.741, RMSE 4.586, RMSlog 0.184, d1 0.884, d2 0.962, d3 0.983.
_base_ = ['../resnet18_kitti.py']
model = dict(triplet_loss=None)
