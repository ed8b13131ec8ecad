# FSRE Table 3a, row l = 0-3: L_CE + L_SGT (no CMA, as the Table 3 rows; the paper's
# default row l = 1-3, K = 5 repeats Table 1b row 3) with the triplet loss on the
# paper's levels l = 0, 1, 2, 3 = decoder blocks b = 4 - l = 4, 3, 2, 1.
# Changes from ../resnet18_kitti.py: no CMA; triplet_blocks. Paper: AbsRel 0.108,
# SqRel 0.757, d1 0.882.
_base_ = ['../resnet18_kitti.py']
model = dict(cross_task_blocks=None, triplet_blocks=(4, 3, 2, 1))
