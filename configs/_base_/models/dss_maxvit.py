# DSS (depth-semantics symbiosis): MaxViT-L encoder, the eq. 1 U-Net decoder, the DSS
# neck (task necks + Symbiotic Transformer of LG-CAT blocks), a sigmoid depth head and
# a 3x3-conv semantic head, both upsampled x4 (eq. 6). SILog (alpha 10, lambda 0.85)
# + Jaccard (eq. 8-10). See specs/dss.md for the interpretations marked below.
ln_cfg = dict(type='LN2d')  # LayerNorm over channels
data_preprocessor = dict(
    type='DepthSemDataPreProcessor',
    # timm's MaxViT-*-tf normalisation: (x / 255 - 0.5) / 0.5
    mean=[127.5, 127.5, 127.5],
    std=[127.5, 127.5, 127.5],
    bgr_to_rgb=True,
    size_divisor=32)
model = dict(
    type='MultiTaskEstimator',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='MaxViTBackbone',
        model_name='maxvit_large_tf_512',
        img_size=(480, 640),  # the training crop; the window/grid is img_size // 32
        pretrained=True,  # ImageNet (timm); stage-1 ADE20K weights: model.init_cfg
        out_indices=(1, 2, 3, 4),  # E_1..E_4, strides 4-32; the stem E_0 is unused
        drop_path_rate=0.0),  # interpretation: the paper gives none
    decode_neck=dict(
        # Eq. 1: D_4 = E_4; D_i = GELU(LN(Conv3x3(Concat(E_i, Up(D_{i+1}))))).
        type='UpConcatDecoder',
        in_channels=[128, 256, 512, 1024],
        channels=[128, 256, 512],  # F_i = 2^(i+6)
        num_convs=1,
        norm_cfg=ln_cfg,
        act_cfg=dict(type='GELU'),
        out_levels=[0]),  # D_1, stride 4
    task_neck=dict(
        type='DSSNeck',
        in_channels=128,
        channels=128,
        num_convs=2,
        symbiosis=True,  # False: DSS Table 4's baseline (necks -> heads)
        num_heads=4,  # h
        window_size=7,  # w
        num_repeats=2,  # N_s
        mlp_ratio=4.0,
        drop_path_rate=0.0,
        expand_ratio=4.0,  # FusedMBConv (interpretation)
        se_ratio=0.25,
        norm_cfg=ln_cfg,
        act_cfg=dict(type='GELU'),
        mbconv_norm_cfg=dict(type='BN')),
    depth_head=dict(
        type='DepthHead',
        in_channels=128,
        num_convs=0,  # eq. 6: Conv3x3 -> sigmoid -> x4 -> * max_depth
        activation='sigmoid',
        upsample_factor=4,
        max_depth=10.0,
        loss_decode=dict(type='ScaleInvariantLogLoss', alpha=10.0, lambd=0.85)),
    sem_head=dict(
        type='DSSSemHead',
        in_channels=128,
        num_classes=150,  # the ADE20K teacher's classes (pseudo-labels)
        upsample_factor=4,  # eq. 6: Conv3x3 -> logits -> x4 (softmax in the loss)
        label_field='gt_pseudo_sem_seg',  # the teacher's labels (section 3.1)
        dropout_ratio=0.0,
        loss_decode=dict(type='JaccardLoss', smooth=1.0, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
