# Shared part of the SDE-Seg semi-supervised demo configs: the paper's model and
# training recipe at demo scale on the synthetic street set (`make data`) — a
# ResNet-18 encoder from scratch with output stride 16, decoders of widths
# 16/32/32/64 and a 64-channel ASPP, 128x128 crops, batches of 2 labelled + 2
# unlabelled images, SGD with the paper's per-module learning-rate ratios at a
# 2x higher base (few steps), no auto-mask
# (the synthetic drives have no static frames; docs/selfsup.md), pose net from
# scratch. The labelled split (8 of the 40 training frames) is written by
# `make demo-sdeseg` (tools/make_subset_split.py). As the SDE demo, the decoders
# keep the paper's reading (3x3 ASPP fusion, no dropout, no second block-4 conv,
# 3x3 heads, ImageNet mean / std), the form the recorded figures were measured with.
_base_ = [
    '../../_base_/models/sdeseg_resnet101_ssl.py',
    '../../_base_/datasets/synthetic_cityscapes_ssl.py',
    '../../_base_/default_runtime.py',
    '../../_base_/schedules/schedule_sgd_sdeseg_40k.py',
]
encoder_channels = (64, 64, 128, 256, 512)
decoder_widths = (16, 32, 32, 64, 64)
model = dict(
    backbone=dict(model_name='resnet18', pretrained=False),
    data_preprocessor={{_base_.paper_mean_std}},
    depth_decoder=dict(in_channels=encoder_channels, channels=decoder_widths,
                       aspp_skip_conv=False, aspp_fuse_kernel_size=3,
                       aspp_fuse_dropout=0.0),
    sem_decoder=dict(in_channels=encoder_channels, channels=decoder_widths,
                     aspp_skip_conv=False, aspp_fuse_kernel_size=3,
                     aspp_fuse_dropout=0.0, head_kernel_size=3),
    cross_task_blocks={'_delete_': True,
                       2: dict(type='AttentionGuidedDistillation', channels=32,
                               gate_source='sender', bias=False,
                               zero_init_gate=True)},
    pose_net=dict(encoder=dict(checkpoint=None)),
    photometric_loss=dict(automask=False))
max_iters = 200
optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[150], gamma=0.1)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters, dynamic_intervals=None)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1, save_best=None))
