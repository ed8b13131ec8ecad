# Shared part of the SDE-Seg SDE-pretraining demo configs: the SDE network at demo
# scale (ResNet-18 encoder from scratch, output stride 16; decoder widths
# 16/32/32/64 and a 64-channel ASPP; pose net from scratch; no auto-mask — the
# synthetic drives have no static frames, docs/selfsup.md) on the synthetic street
# sequences, 128x128 crops, batch 4, Adam 1e-4 as the paper (x2 here: few steps).
# The demo keeps the paper's decoder reading (3x3 ASPP fusion, no dropout, no second
# block-4 conv, ImageNet mean / std), the form its figures in docs/sdeseg.md were
# measured with; the full-size configs use the released code's (row 17).
_base_ = [
    '../../_base_/models/sdeseg_resnet101.py',
    '../../_base_/datasets/synthetic_cityscapes_sequences.py',
    '../../_base_/default_runtime.py',
    '../../_base_/schedules/schedule_adam_sde_pretrain.py',
]
encoder_channels = (64, 64, 128, 256, 512)
decoder_widths = (16, 32, 32, 64, 64)
model = dict(
    backbone=dict(model_name='resnet18', pretrained=False),
    data_preprocessor={{_base_.paper_mean_std}},
    depth_decoder=dict(in_channels=encoder_channels, channels=decoder_widths,
                       aspp_skip_conv=False, aspp_fuse_kernel_size=3,
                       aspp_fuse_dropout=0.0),
    pose_net=dict(encoder=dict(checkpoint=None)),
    photometric_loss=dict(automask=False))
max_iters = 300
optim_wrapper = dict(optimizer=dict(lr=2e-4))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[225], gamma=0.1)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
