# SDE-Seg Table 5 "Transfer + F": the SDE-pretrained network (stage B, with the
# ImageNet feature distance) transferred to segmentation, trained with cross-entropy
# on the labelled images only (no SDE loss, no unlabelled data). Paper, 1/8 labels:
# 60.80 +- 0.69. (Table 5's "Transfer" without F: transfer a stage-B run with
# feature_distance_loss=None.)
_base_ = ['./_ssl_single_task_resnet101_cityscapes.py']
model = dict(unlabelled_loss=None, depth_loss_weight=0.0)
