# Tiny SIDE student for the selection demo on the synthetic Cityscapes set (`make
# data`, 128x256 frames kept at their native size): ResNet-18 without ImageNet weights
# (runs offline), a narrow BN decoder, otherwise resnet50_side_student.py. CPU, seconds
# per student.
_base_ = ['./resnet50_side_student.py']
model = dict(
    backbone=dict(model_name='resnet18', pretrained=False),
    decode_neck=dict(in_channels=[64, 128, 256, 512], channels=[16, 32, 64]),
    depth_head=dict(in_channels=16, channels=16))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSDEDisparity'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDepthSemInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSDEDisparity'),
    dict(type='PackDepthSemInputs'),
]
train_dataloader = dict(batch_size=2, num_workers=0,
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
max_iters = 200
param_scheduler = [
    dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=max_iters))
