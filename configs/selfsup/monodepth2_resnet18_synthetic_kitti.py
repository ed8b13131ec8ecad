# Demo of the self-supervised framework: Monodepth2-style training (frames -1, 0, +1,
# no depth labels) of a ResNet-18 depth + pose network from scratch on the embedded
# synthetic KITTI-format drives (`make data`), evaluated with per-image median scaling,
# Garg crop and 80 m cap. Runs on CPU in minutes.
_base_ = [
    '../_base_/models/monodepth2_resnet18.py',
    '../_base_/datasets/synthetic_kitti.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_adam_40k.py',
]
max_iters = 600
model = dict(
    backbone=dict(pretrained=False),
    pose_net=dict(encoder=dict(checkpoint=None)))
train_dataloader = dict(batch_size=4)
val_evaluator = [dict(type='DepthMetric', crop='kitti_garg', max_depth=80.0,
                      median_scaling=True)]
test_evaluator = val_evaluator
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-4))
param_scheduler = [dict(type='MultiStepLR', by_epoch=False, milestones=[450],
                        gamma=0.1)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=300)
default_hooks = dict(logger=dict(interval=25),
                     checkpoint=dict(interval=300, max_keep_ckpts=2))
