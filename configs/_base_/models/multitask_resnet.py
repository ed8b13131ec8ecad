# The plain multi-task baseline: a timm ResNet encoder, a U-Net decoder shared by
# both tasks, a depth head and an FCN semantic head on the stride-4 decoder map.
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='DepthSemDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    size_divisor=32)
model = dict(
    type='MultiTaskEstimator',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='TIMMBackbone',
        model_name='resnet50',
        features_only=True,
        pretrained=True,
        out_indices=(1, 2, 3, 4)),
    decode_neck=dict(
        type='UpConcatDecoder',
        in_channels=[256, 512, 1024, 2048],
        channels=[128, 256, 512],
        norm_cfg=norm_cfg,
        act_cfg=dict(type='ReLU'),
        out_levels=[0]),
    depth_head=dict(
        type='DepthHead',
        in_channels=128,
        channels=64,
        num_convs=1,
        activation='sigmoid',
        max_depth=10.0,
        norm_cfg=norm_cfg,
        loss_decode=dict(type='ScaleInvariantLogLoss', alpha=10.0, lambd=0.85)),
    sem_head=dict(
        type='FCNHead',
        in_channels=128,
        channels=64,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.0,
        num_classes=40,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
            avg_non_ignore=True)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
