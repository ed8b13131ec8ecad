# SDE-Seg baseline (Tables 3, 5, 7): cross-entropy on the labelled images only, the
# encoder from ImageNet (no SDE transfer, no SDE loss, no unlabelled data), same
# hyper-parameters. Paper, 1/8 labels (372): 59.14 +- 1.02; full: 67.77 +- 0.13.
_base_ = ['./_ssl_single_task_resnet101_cityscapes.py']
model = dict(unlabelled_loss=None, depth_loss_weight=0.0)
load_from = None
