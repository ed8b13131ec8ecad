# SDE-Seg SDE pretraining, stage B (sec. 3.3, eq. 6-7, 4.3): 50k more iterations with
# the encoder fine-tuned and the ImageNet feature distance L_F (lambda_F = 1e-2) to a
# frozen copy of the encoder as stage A left it (= the ImageNet encoder, frozen
# there), copied at the first step. The learning rate continues at stage A's final
# 1e-5 (after its /10 at 160k; the paper gives no other value).
# Then: tools/model_converters/sde_to_segmentation.py (docs/sdeseg.md).
_base_ = ['./sde_stage_a_resnet101_cityscapes.py']
model = dict(
    freeze_backbone=False,
    feature_distance_loss=dict(type='FeatureDistanceLoss', loss_weight=1e-2))
load_from = 'work_dirs/sde_stage_a_resnet101_cityscapes/iter_300000.pth'
max_iters = 50000
optim_wrapper = dict(optimizer=dict(lr=1e-5))
param_scheduler = []
train_cfg = dict(max_iters=max_iters, val_interval=10000)
