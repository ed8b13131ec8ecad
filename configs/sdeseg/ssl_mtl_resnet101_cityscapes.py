# SDE-Seg Table 5 / 7 "Multi-task + F": the transferred network trained with
# cross-entropy on the labelled images and the SDE loss on the unlabelled sequences
# (no pseudo-labels, no mixing). Paper, 1/8 labels: 61.25 +- 0.55 (Table 7, MTL).
_base_ = ['./_ssl_resnet101_cityscapes.py']
model = dict(unlabelled_loss=None, depth_loss_weight=1.0)
