# SDE-Seg Table 3 "Pseudo-labels": the baseline plus mean-teacher pseudo-labels on
# the (colour-jittered, blurred) unlabelled images, q'-weighted; no mixing, no SDE
# loss, ImageNet encoder. Paper, 1/8 labels: 62.39 +- 0.86.
# The unlabelled images are G_U only and all pseudo-labelled (the released code's
# rows without DepthMix: only_unlabeled, no mix_use_gt).
_base_ = ['./_ssl_single_task_resnet101_cityscapes.py']
model = dict(unlabelled_loss='pseudo', depth_loss_weight=0.0,
             mix_partner='unlabelled')
train_dataloader = dict(dataset=dict(mark_labelled=False, exclude_labelled=True))
load_from = None
