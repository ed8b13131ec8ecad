# SDE-Seg §4.4: the single-image depth (SIDE) student of the automatic data selection.
# tools/select_annotations.py trains it from scratch after every selection step on the
# selected images G_A, with the SDE teacher's sigmoid disparities as targets, and fills
# in the pool / selection / disparity paths and the iterations of the step
# (4k, 8k, 12k, 16k, 20k). ResNet-50 encoder, a slim U-Net decoder (reduced channels)
# with BatchNorm, a sigmoid depth head with max_depth = 1 (so it predicts disparity in
# (0, 1) like the teacher), berHu loss, Adam 1e-4 with poly(0.9) decay.
# Not in the paper: batch size 4 and the random horizontal flip; the encoder starts from
# ImageNet weights ("from scratch" in the paper = not fine-tuned from the previous step).
_base_ = [
    '../../_base_/models/multitask_resnet.py',
    '../../_base_/default_runtime.py',
]
image_size = (1024, 512)  # (W, H), the SDE input size of the pool images
# The multi-task baseline's ResNet-50 + U-Net decoder, depth only: slimmer decoder
# widths, a sigmoid head with max_depth = 1 (disparity), berHu.
model = dict(
    decode_neck=dict(channels=[64, 128, 256]),
    depth_head=dict(
        in_channels=64,
        channels=32,
        max_depth=1.0,
        loss_decode=dict(_delete_=True, type='BerHuLoss', threshold_ratio=0.2)),
    sem_head=None)

# The tool sets ann_file / disparity_dir / selection_file to its work dir.
dataset_type = 'SDEPseudoDepthDataset'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size),
    dict(type='LoadSDEDisparity'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDepthSemInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size),
    dict(type='LoadSDEDisparity'),
    dict(type='PackDepthSemInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file='pool.json',
        disparity_dir='sde_disparity',
        selection_file=None,
        pipeline=train_pipeline))
# Agreement with the teacher on the whole pool (the selection tool skips validation
# and scores the pool itself with eq. 3).
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file='pool.json',
        disparity_dir='sde_disparity',
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='DepthMetric', min_depth=1e-3, max_depth=1.0)
test_evaluator = val_evaluator

max_iters = 4000
optim_wrapper = dict(
    type='NonFiniteGuardOptimWrapper', policy='skip',
    optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.0))
param_scheduler = [
    dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=max_iters,
        max_keep_ckpts=1,
        backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='DepthSemVisualizationHook', draw=False))
