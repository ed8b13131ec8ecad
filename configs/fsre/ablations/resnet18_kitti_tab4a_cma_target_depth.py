# FSRE Table 4a, row T = D: L_CE + CMA (no L_SGT, as the Table 4 rows; the default
# row T = D,S, H = 4 repeats Table 1b row 4) with unidirectional CMA: only the depth
# features are refined (semantic features as the reference), after blocks
# b = 4, 3, 2. Changes from ../resnet18_kitti.py: no triplet loss; CMA targets.
# Paper: AbsRel 0.108, SqRel 0.759, d1 0.882.
_base_ = ['../resnet18_kitti.py']
model = dict(
    cross_task_blocks={b: dict(targets=('depth', )) for b in (4, 3, 2)},
    triplet_loss=None)
