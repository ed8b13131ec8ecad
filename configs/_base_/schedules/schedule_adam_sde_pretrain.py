# SDE-Seg's SDE pretraining (sec. 4.3): Adam, lr 1e-4, batch 4; stage A 300k
# iterations (lr /10 after 160k) with the encoder frozen, stage B another 50k with
# the encoder fine-tuned under the ImageNet feature distance. `max_iters` and the
# milestones are set per stage.
max_iters = 300000
optim_wrapper = dict(
    type='NonFiniteGuardOptimWrapper', policy='skip',
    optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.0))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[160000], gamma=0.1)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=50000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=10000,
        max_keep_ckpts=2,
        backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='DepthSemVisualizationHook', draw=False))
