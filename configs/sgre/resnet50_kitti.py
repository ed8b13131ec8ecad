# SGRE (Li et al.) on KITTI, ResNet-50 (paper Table 1: AbsRel 0.105, SqRel 0.764,
# RMSE 4.550, RMSlog 0.181, d1 0.891): Monodepth2 + binary semantic branch on
# pseudo-labels, semantic fusion, attention at decoder blocks 4, 3, 2 and SEEM
# (configs/_base_/models/sgre_resnet50.py). Eigen-Zhou training split, 192x640,
# batch 12, Adam 1e-4, 19 epochs, x0.1 after 15. Model selection on the 4,424
# validation frames (velodyne depth, median scaling); test on the Eigen split.
#   python tools/train.py configs/sgre/resnet50_kitti.py
#   python tools/test.py configs/sgre/resnet50_kitti.py CKPT
_base_ = [
    '../_base_/models/sgre_resnet50.py',
    '../_base_/datasets/kitti_eigen_zhou_selfsup.py',
    '../_base_/default_runtime.py',
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadNeighbourFrames'),
    dict(type='LoadPseudoLabel', num_classes=19),
    dict(type='Resize', scale={{_base_.image_scale}}, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='ColorJitter', brightness=0.2, contrast=0.2, saturation=0.2, hue=0.1,
         prob=0.5, keep_clean=True),
    dict(type='BinaryForegroundMap',
         foreground_classes={{_base_.sgre_foreground_classes}},
         keys=('gt_pseudo_seg_map', )),
    # the model's seem_sampling values (test-time points use the same ones)
    dict(type='SampleSEEMPoints', mask_key='gt_pseudo_seg_map', num_points=3000,
         edge_ratio=0.4, max_offset=3, ref_size=(192, 640), scale_with_size=True),
    dict(type='PackDepthSemInputs'),
]
train_dataloader = dict(batch_size=12, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(ann_file='splits/eigen_zhou/val_files.txt'))
optim_wrapper = dict(
    type='NonFiniteGuardOptimWrapper', policy='skip',
    optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.999)))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[15], gamma=0.1)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=19, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=1,
                    max_keep_ckpts=3, save_best='abs_rel', rule='less',
                    backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='DepthSemVisualizationHook', draw=False))
log_processor = dict(by_epoch=True)
auto_scale_lr = dict(enable=False, base_batch_size=12)
# log the gradient norms reaching SEEM and the attention modules
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(type='SkippedSampleReportHook'),
    dict(type='ModuleGradNormHook',
         prefixes=('depth_decoder.seem', 'depth_decoder.attention'))
]
