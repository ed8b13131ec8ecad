# SOSD-Net (He et al.): Xception-65 (output stride 16) + ASPP with a cross-channel
# learner and a full-image extractor; decoder with the semantic feature (1 conv), the
# common representation (1 conv) and the depth feature (2 convs), 256 channels; the
# semantic-to-depth unit (eq. 3 cue, L1 on depth) and the depth-to-semantic unit (CE),
# losses 1:1; task layers N(0, 0.1^2). Trained with the EM-style alternation of
# Algorithm 1 (ESOSD-Net): depth phase / semantic phase, switching every epoch.
# Layer widths not in the paper's text follow specs/sosd.md (interpretations).
data_preprocessor = dict(
    type='DepthSemDataPreProcessor',
    mean=[127.5, 127.5, 127.5],  # Xception's [-1, 1] input range
    std=[127.5, 127.5, 127.5],
    bgr_to_rgb=True,
    size_divisor=16,
    pad_val=0)
# Parameter groups of the alternation (every parameter in exactly one).
sosd_groups = dict(
    shared=['backbone', 'decode_neck.aspp', 'decode_neck.image_pool',
            'decode_neck.bottleneck', 'decode_neck.low_level', 'decode_neck.common'],
    depth=['decode_neck.depth_feature', 'depth_head'],
    semantic=['decode_neck.semantic_feature', 'sem_head'])
model = dict(
    type='AlternatingMultiTaskEstimator',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='TIMMBackbone',
        model_name='xception65',
        features_only=True,
        pretrained=True,
        output_stride=16,
        out_indices=(1, 4)),  # stride 4 (256 ch, the "refined fp") and 16 (2048)
    decode_neck=dict(
        type='SOSDDecoder',
        in_channels=(256, 2048),
        in_index=(0, 1),
        channels=256,
        dilations=(1, 6, 12, 18),
        low_level_channels=48,
        num_convs=(1, 1, 2),
        task_init_std=0.1),
    depth_head=dict(
        type='SemanticToDepthHead',
        in_channels=256,
        sem_channels=256,
        common_channels=256,
        with_unit=True,
        activation='softplus',
        min_depth=1e-3,
        max_depth=10.0,
        loss_decode=dict(type='DepthL1Loss', loss_weight=1.0)),
    sem_head=dict(
        type='DepthToSemanticHead',
        in_channels=(256, 256, 256),
        num_classes=40,
        with_unit=True,
        ignore_index=255,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
                         avg_non_ignore=True)),
    alternation=dict(enabled=True, period=1, by_epoch=True, start='depth',
                     groups=sosd_groups))
# In a phase the frozen head gets no gradient; DDP must allow that. This wrapper
# (also for GPUs) hands the training step to the estimator.
model_wrapper_cfg = dict(type='mmseg.mmdepthsem.DeviceAwareDistributedDataParallel',
                         find_unused_parameters=True)
