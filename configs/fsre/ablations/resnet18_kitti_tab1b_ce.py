# FSRE Table 1b, row 2 (+ L_CE): baseline plus the semantic decoder trained with
# cross-entropy on the pseudo-labels (gamma = 0.3) through the shared encoder.
# Changes from ../resnet18_kitti.py: no CMA, no triplet loss. Paper: AbsRel 0.112,
# SqRel 0.823, RMSE 4.705, RMSlog 0.189, d1 0.879, d2 0.961, d3 0.982.
_base_ = ['../resnet18_kitti.py']
model = dict(cross_task_blocks=None, triplet_loss=None)
