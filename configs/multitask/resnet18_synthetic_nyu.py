# The demo: the plain multi-task baseline (ResNet-18 from scratch, U-Net decoder, depth +
# 40-class semantic heads) on the embedded synthetic NYU-format data. Runs on CPU in a few
# minutes (`make demo`).
_base_ = [
    '../_base_/models/multitask_resnet.py',
    '../_base_/datasets/synthetic_nyu.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_adamw_2k.py',
]
max_iters = 1000
model = dict(
    backbone=dict(model_name='resnet18', pretrained=False),
    decode_neck=dict(in_channels=[64, 128, 256, 512], channels=[64, 96, 128]),
    depth_head=dict(in_channels=64, channels=32, max_depth=10.0),
    sem_head=dict(in_channels=64, channels=32, num_classes=40))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=100, end=max_iters,
         eta_min=1e-5),
]
train_cfg = dict(max_iters=max_iters, val_interval=500)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=500, max_keep_ckpts=2))
