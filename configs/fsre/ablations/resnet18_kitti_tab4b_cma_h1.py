# FSRE Table 4b, row H = 1: L_CE + bidirectional CMA (no L_SGT) with a single
# embedding (rho is the identity), after blocks b = 4, 3, 2. Changes from
# ../resnet18_kitti.py: no triplet loss; num_embeddings. Paper: AbsRel 0.108,
# SqRel 0.762, d1 0.881.
_base_ = ['../resnet18_kitti.py']
model = dict(
    cross_task_blocks={b: dict(num_embeddings=1) for b in (4, 3, 2)},
    triplet_loss=None)
