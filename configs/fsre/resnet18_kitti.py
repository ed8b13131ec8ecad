# FSRE (Jung et al., ICCV 2021) on KITTI, ResNet-18: Monodepth2-style self-supervised
# depth + a semantic decoder on pseudo-labels (gamma = 0.3), bidirectional CMA after
# decoder blocks b = 4, 3, 2 (the paper's l = 0, 1, 2, counted from the coarse end;
# H = 4 embeddings), semantics-guided triplet loss on blocks b = 3, 2, 1 (the paper's
# l = 1, 2, 3; K = 5, m = 0.3, delta = 0.1). 192x640, batch 12, Adam 1.5e-4,
# 20 epochs, x0.1 at epochs 10 and 15, beta = 0.001.
_base_ = [
    '../_base_/models/fsre_resnet18.py',
    '../_base_/datasets/kitti_eigen_zhou_selfsup.py',
    '../_base_/default_runtime.py',
]
optim_wrapper = dict(
    type='NonFiniteGuardOptimWrapper', policy='skip',
    optimizer=dict(type='Adam', lr=1.5e-4, betas=(0.9, 0.999)))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[10, 15], gamma=0.1)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=1,
                    max_keep_ckpts=3, backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='DepthSemVisualizationHook', draw=False))
log_processor = dict(by_epoch=True)
auto_scale_lr = dict(enable=False, base_batch_size=12)
