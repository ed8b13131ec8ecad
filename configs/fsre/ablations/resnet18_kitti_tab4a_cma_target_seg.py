# FSRE Table 4a, row T = S: L_CE + CMA (no L_SGT) with unidirectional CMA: only the
# semantic features are refined (depth features as the reference), after blocks
# b = 4, 3, 2. Changes from ../resnet18_kitti.py: no triplet loss; CMA targets.
# Paper: AbsRel 0.111, SqRel 0.797, d1 0.877.
_base_ = ['../resnet18_kitti.py']
model = dict(
    cross_task_blocks={b: dict(targets=('seg', )) for b in (4, 3, 2)},
    triplet_loss=None)
