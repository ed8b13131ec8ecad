# DSS "symbiosis training" schedule (section 4.2): AdamW (0.9, 0.999), 20 epochs,
# 4 images per GPU on 8 GPUs. Interpretations (specs/dss.md): the lr warms up
# linearly from 4e-6 to 3e-5 over the first epoch, then follows a cosine to 0; the
# weight decay "follows the scheduler" as a cosine from 0.05 to 0.005 over the same
# epochs. Schedulers step per iteration (convert_to_iter_based).
max_epochs = 20
warmup_epochs = 1
base_lr = 3e-5
warmup_start_lr = 4e-6
weight_decay = 0.05
min_weight_decay = 0.005
optim_wrapper = dict(
    type='NonFiniteGuardOptimWrapper', policy='skip',
    optimizer=dict(
        type='AdamW', lr=base_lr, betas=(0.9, 0.999), weight_decay=weight_decay))
param_scheduler = [
    dict(type='LinearLR', start_factor=warmup_start_lr / base_lr, end_factor=1.0,
         by_epoch=True, begin=0, end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=0.0,
         by_epoch=True, begin=warmup_epochs, end=max_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingParamScheduler', param_name='weight_decay',
         T_max=max_epochs - warmup_epochs, eta_min=min_weight_decay, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# The lr above is for 8 GPUs x 4 images; `--auto-scale-lr` rescales it linearly.
auto_scale_lr = dict(enable=False, base_batch_size=32)

# Per-epoch logging also needs `log_processor = dict(by_epoch=True)` in the config
# (default_runtime.py sets it). Checkpoints are written atomically (temporary file +
# rename).
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=True),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=True,
        interval=1,
        max_keep_ckpts=3,
        backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='DepthSemVisualizationHook', draw=False))
