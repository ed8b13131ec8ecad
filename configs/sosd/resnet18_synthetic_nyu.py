# Demo of ESOSD-Net on the embedded synthetic rooms (NYU layout, 120x160, 200 train /
# 50 test frames, 40 classes; `make data`): SOSD-Net's decoder, both semantic
# objectness units and the EM alternation, with a ResNet-18 encoder from scratch
# (strides 4 and 16) and 128-channel task features instead of Xception-65 / 256, so
# the three demo runs (demo/: joint SOSD-Net and MTL) fit minutes on a CPU. The
# paper's random scales {1, 1.2, 1.5} with depth / s, cropped back to the image
# size; one "epoch" is 25 iterations (200 frames / batch 8), so the phase switches
# every 25 iterations.
_base_ = [
    '../_base_/models/sosd_xception65.py',
    '../_base_/datasets/synthetic_nyu.py',
    '../_base_/default_runtime.py',
]
max_iters = 500
model = dict(
    data_preprocessor=dict(mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375]),
    backbone=dict(model_name='resnet18', pretrained=False, out_indices=(1, 3),
                  _delete_=True, type='TIMMBackbone', features_only=True),
    decode_neck=dict(in_channels=(64, 256), channels=128),
    depth_head=dict(in_channels=128, sem_channels=128, common_channels=128),
    sem_head=dict(in_channels=(128, 128, 128)),
    alternation=dict(by_epoch=False, period=25))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadDepthAnnotation'),
    dict(type='LoadSemAnnotation'),
    dict(type='RandomResize', ratios=(1.0, 1.2, 1.5), depth_mode='divide'),
    dict(type='RandomCrop', crop_size=(120, 160)),
    dict(type='ColorJitter', brightness=0.2, contrast=0.2, saturation=0.2, hue=0.05,
         prob=0.8),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDepthSemInputs'),
]
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=train_pipeline))
val_evaluator = [
    dict(type='DepthMetric', crop='nyu_eigen', min_depth=1e-3, max_depth=10.0,
         average='pixel'),
    dict(type='IoUMetric', iou_metrics=['mIoU']),
]
test_evaluator = val_evaluator
optim_wrapper = dict(
    type='NonFiniteGuardOptimWrapper', policy='skip',
    optimizer=dict(type='Adam', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.0))
param_scheduler = []  # constant, as the paper (10x its lr: from scratch, 500 steps)
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=25, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters,
                    max_keep_ckpts=1, backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='DepthSemVisualizationHook', draw=False))
log_processor = dict(by_epoch=False)
