# FSRE Table 3b, row K = 3: L_CE + L_SGT (no CMA; blocks b = 3, 2, 1) with a 3x3
# local patch; the loss sets the count threshold T = K - 1 = 2 itself
# (threshold=-1). Changes from ../resnet18_kitti.py: no CMA; kernel_size.
# Paper: AbsRel 0.109, SqRel 0.757, d1 0.878.
_base_ = ['../resnet18_kitti.py']
model = dict(cross_task_blocks=None, triplet_loss=dict(kernel_size=3))
