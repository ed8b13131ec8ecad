# ESOSD-Net (He et al.) on Cityscapes at 256x512 (19 classes, disparity targets in
# pixels, L1), EM-style alternation (one epoch per phase), Adam 1e-4 constant,
# batch 16, 40 epochs; results on the 500 val images. Paper (Table 1): mIoU 68.2,
# disparity error 2.41 px.
#   bash tools/dist_train.sh configs/sosd/xception65_cityscapes.py 1
_base_ = [
    '../_base_/models/sosd_xception65.py',
    '../_base_/datasets/cityscapes_256x512_disparity.py',
    '../_base_/default_runtime.py',
]
model = dict(
    depth_head=dict(target_key='gt_disparity_map', max_depth=256.0),
    sem_head=dict(num_classes=19))
train_dataloader = dict(batch_size=16,
                        sampler=dict(type='DefaultSampler', shuffle=True))
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.0))
param_scheduler = []  # constant learning rate
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=40, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=5,
                    max_keep_ckpts=3, backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='DepthSemVisualizationHook', draw=False))
log_processor = dict(by_epoch=True)
auto_scale_lr = dict(enable=False, base_batch_size=16)
