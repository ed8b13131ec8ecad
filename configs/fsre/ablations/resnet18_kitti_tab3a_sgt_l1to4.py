# FSRE Table 3a, row l = 1-4: L_CE + L_SGT (no CMA) with the triplet loss on the
# paper's levels l = 1, 2, 3, 4 = decoder blocks b = 4 - l = 3, 2, 1, 0 (block 0 has
# 16 channels at full resolution). Changes from ../resnet18_kitti.py: no CMA;
# triplet_blocks. Paper: AbsRel 0.108, SqRel 0.742, d1 0.879.
_base_ = ['../resnet18_kitti.py']
model = dict(cross_task_blocks=None, triplet_blocks=(3, 2, 1, 0))
