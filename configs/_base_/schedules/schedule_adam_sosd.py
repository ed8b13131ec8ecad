# SOSD-Net's schedule (sec. 4.1): Adam, lr 1e-4 held constant, epoch-based (60 epochs
# for NYU; the Cityscapes configs set 40), validation and checkpoints every 5 epochs.
# The batch size (16) lives in the dataset settings; configs set
# `log_processor = dict(by_epoch=True)` (default_runtime.py owns that key).
optim_wrapper = dict(
    type='NonFiniteGuardOptimWrapper', policy='skip',
    optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.0))
param_scheduler = []  # constant learning rate
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=60, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=5,
                    max_keep_ckpts=3, backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='DepthSemVisualizationHook', draw=False))
auto_scale_lr = dict(enable=False, base_batch_size=16)
