# SDE-Seg SDE pretraining, stage A (Hoyer et al., IJCV 2023, sec. 3.3, 4.3): depth
# decoder and pose net trained on Cityscapes sequences with the ImageNet ResNet-101
# encoder frozen; Adam 1e-4, batch 4, /10 after 160k, 300k iterations.
# Stage B (sde_stage_b_resnet101_cityscapes.py) loads the last checkpoint.
_base_ = [
    '../_base_/models/sdeseg_resnet101.py',
    '../_base_/datasets/cityscapes_sequences.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_adam_sde_pretrain.py',
]
model = dict(freeze_backbone=True)
