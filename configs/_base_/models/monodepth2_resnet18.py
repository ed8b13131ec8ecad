# Monodepth2-style self-supervised depth: ResNet-18 encoder (strides 2..32), depth
# decoder with sigmoid disparities at 4 scales, ResNet-18 pose net on frame pairs,
# photometric (0.85 SSIM + 0.15 L1, per-pixel min, auto-mask) + edge-aware smoothness
# (beta = 0.001 / 2^s), depth in [0.1, 100] m.
# Training follows the released code (nianticlabs/monodepth2, docs/selfsup.md "Paper
# text vs released code"): the view synthesis samples with grid_sample's
# align_corners=False on a grid normalised by W-1 / H-1 (align_corners=True is the
# exact eq. 1 reading), and the loss is the mean over scales of
# photometric + beta/2^s smoothness (scale_weighting='mean').
data_preprocessor = dict(
    type='DepthSemDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    size_divisor=32)
model = dict(
    type='SelfSupervisedDepthEstimator',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='TIMMBackbone',
        model_name='resnet18',
        features_only=True,
        pretrained=True,
        out_indices=(0, 1, 2, 3, 4)),
    depth_decoder=dict(
        type='MonodepthDepthDecoder',
        in_channels=(64, 64, 128, 256, 512),
        scales=(0, 1, 2, 3)),
    # ImageNet weights for the pose encoder, widened to 6 channels when loaded
    # (init_weights); no download happens at build time.
    pose_net=dict(
        type='PoseNet',
        encoder=dict(type='PoseResNet', model_name='resnet18', num_input_frames=2,
                     checkpoint='torchvision://resnet18')),
    photometric_loss=dict(type='PhotometricReprojectionLoss', alpha=0.85,
                          automask=True),
    smoothness_loss=dict(type='EdgeAwareSmoothnessLoss', loss_weight=1e-3),
    frame_ids=(-1, 1),
    scales=(0, 1, 2, 3),
    scale_weighting='mean',
    align_corners=False,
    min_depth=0.1,
    max_depth=100.0)
