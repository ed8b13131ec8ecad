# FSRE Table 1b, row 1 (no L_CE, no L_SGT, no CMA): the Monodepth2 baseline at
# 192x640. Changes from ../resnet18_kitti.py: no semantic decoder / cross-entropy,
# no CMA, no triplet loss (the pipeline still loads the pseudo-labels; nothing
# reads them). Paper: AbsRel 0.114, SqRel 0.864, RMSE 4.817, RMSlog 0.192,
# d1 0.875, d2 0.959, d3 0.981.
_base_ = ['../resnet18_kitti.py']
model = dict(
    sem_decoder=None,
    sem_loss=None,
    cross_task_blocks=None,
    triplet_loss=None)
