# SDE-Seg's network (Hoyer et al., IJCV 2023, sec. 4.2), depth part: a ResNet-101
# encoder with output stride 16 (timm, dilated last stage; five features at strides
# 2, 4, 8, 16, 16), the depth decoder (ASPP with rates 6/12/18, then four U-Net
# up-blocks of widths 256/128/64/32 with skips, sigmoid disparity side outputs at 4
# scales) and Monodepth2's pose network (ResNet-18 on two frames), trained with the
# SDE loss (photometric + smoothness, frames -1, 0, +1). The SDE pretraining stages
# set `freeze_backbone` (A) or `feature_distance_loss` (B);
# sdeseg_resnet101_ssl.py adds the segmentation decoder and the distillation.
data_preprocessor = dict(
    type='DepthSemDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    size_divisor=32)
encoder_channels = (64, 256, 512, 1024, 2048)
decoder_widths = (32, 64, 128, 256, 256)  # blocks b = 0..4; b = 4 is the ASPP
model = dict(
    type='SDEPretrainEstimator',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='TIMMBackbone',
        model_name='resnet101',
        features_only=True,
        pretrained=True,
        output_stride=16,
        out_indices=(0, 1, 2, 3, 4)),
    depth_decoder=dict(
        type='ASPPUNetDecoder',
        in_channels=encoder_channels,
        channels=decoder_widths,
        aspp_dilations=(6, 12, 18),
        scales=(0, 1, 2, 3)),
    pose_net=dict(
        type='PoseNet',
        encoder=dict(type='PoseResNet', model_name='resnet18', num_input_frames=2,
                     checkpoint='torchvision://resnet18')),
    photometric_loss=dict(type='PhotometricReprojectionLoss', alpha=0.85,
                          automask=True),
    smoothness_loss=dict(type='EdgeAwareSmoothnessLoss', loss_weight=1e-3),
    frame_ids=(-1, 1),
    scales=(0, 1, 2, 3),
    min_depth=0.1,
    max_depth=100.0,
    # the released loss/monodepth_loss.py: grid_sample(align_corners=True), the
    # scales' losses averaged (smoothness beta / 2^s inside), docs/sdeseg.md
    align_corners=True,
    scale_weighting='mean')
