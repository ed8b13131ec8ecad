# The DSS demo: the whole DSS model (MaxViT encoder, eq. 1 decoder, task necks,
# Symbiotic Transformer with h=4, w=7, N_s=2, eq. 6 heads, SILog + Jaccard) shrunk to
# MaxViT-pico from scratch, on the embedded synthetic NYU-format data with its own
# 40-class labels (no teacher), NearFarMix on. Trains on CPU in a few minutes.
# Its two baselines (same data, schedule and seeds): demo/maxvit_pico_synthetic_nyu_
# {no_nearfarmix,no_symbiosis}.py; `make demo-dss` trains all three with 3 seeds.
#
# Two stages, as the paper's: stage 1 (demo/maxvit_pico_synthetic_rooms_stage1.py)
# trains the encoder-decoder, both task necks and the semantic head without the
# Symbiotic Transformer on 100 other synthetic rooms (`make data-dss`), the
# analogue of the ADE20K pre-training; this config (stage 2) starts from it, so only
# LG-CAT and the depth head are new. From scratch: --cfg-options model.init_cfg=None.
#
# Sizes: the synthetic images are 120x160; the data preprocessor pads them to 128x160
# (size_divisor 32), which is the training crop, so MaxViT's 4x5 window/grid fits
# training and testing without padding inside the backbone.
_base_ = [
    '../_base_/models/dss_maxvit.py',
    '../_base_/datasets/synthetic_nyu.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_adamw_2k.py',
]
crop_size = (128, 160)
max_iters = 200
stage1_checkpoint = 'work_dirs/demo_dss/stage1/iter_400.pth'
model = dict(
    init_cfg=dict(type='Pretrained', checkpoint=stage1_checkpoint),
    backbone=dict(model_name='maxvit_pico_rw_256', img_size=crop_size,
                  pretrained=False),
    decode_neck=dict(in_channels=[32, 64, 128, 256], channels=[64, 96, 128]),
    task_neck=dict(in_channels=64, channels=64),
    depth_head=dict(in_channels=64, max_depth=10.0),
    sem_head=dict(in_channels=64, num_classes=40, label_field='gt_sem_seg'),
    # NearFarMix as in the NYU paper config (batch form, D = 1.5-6.5 m, p = 0.5)
    data_preprocessor=dict(batch_augments=[
        dict(type='BatchNearFarMix', depth_range=(1.5, 6.5), prob=0.5)]))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadDepthAnnotation'),
    dict(type='LoadSemAnnotation'),
    # zoom in so that every crop is a full 128x160 image region
    dict(type='RandomResize', ratio_range=(1.1, 1.4), depth_mode='divide'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomGrayscale', prob=0.1),
    dict(type='ColorJitter', brightness=0.2, contrast=0.2, saturation=0.2, hue=0.05,
         prob=0.8),
    dict(type='PackDepthSemInputs'),
]
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=20, end=max_iters,
         eta_min=1e-5),
]
train_cfg = dict(max_iters=max_iters, val_interval=100)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=100, max_keep_ckpts=2))
