# SDE-Seg Table 3 "Pseudo-labels": the baseline plus mean-teacher pseudo-labels on
# the (colour-jittered, blurred) unlabelled images, q'-weighted; no mixing, no SDE
# loss, ImageNet encoder. Paper, 1/8 labels: 62.39 +- 0.86.
_base_ = ['./_ssl_resnet101_cityscapes.py']
model = dict(unlabelled_loss='pseudo', depth_loss_weight=0.0)
load_from = None
