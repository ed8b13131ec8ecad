# FSRE Table 4b, row H = 2: L_CE + bidirectional CMA (no L_SGT) with two embeddings
# (softmax over them), after blocks b = 4, 3, 2. Changes from ../resnet18_kitti.py:
# no triplet loss; num_embeddings. Paper: AbsRel 0.107, SqRel 0.749, d1 0.882.
_base_ = ['../resnet18_kitti.py']
model = dict(
    cross_task_blocks={b: dict(num_embeddings=2) for b in (4, 3, 2)},
    triplet_loss=None)
