# SDE-Seg's network (Hoyer et al., IJCV 2023, sec. 4.2), depth part: a ResNet-101
# encoder with output stride 16 (timm, dilated last stage; five features at strides
# 2, 4, 8, 16, 16), the depth decoder (ASPP with rates 6/12/18, then four U-Net
# up-blocks with skips, sigmoid disparity side outputs at 4 scales) and Monodepth2's
# pose network (ResNet-18 on two frames), trained with the SDE loss (photometric +
# smoothness, frames -1, 0, +1). The SDE pretraining stages set `freeze_backbone`
# (A) or `feature_distance_loss` (B); sdeseg_resnet101_ssl.py adds the segmentation
# decoder and the distillation.
# The decoder is the released code's (lhoyer/improving_segmentation_with_
# selfsupervised_depth, experiments.py `decoder_variant(dec=6)`, the variant of every
# SSL and SSDA row; docs/sdeseg.md row 17): widths 64/128/128/256/256 for blocks
# b = 0..4, block 4 = ASPP with a 1x1 fusion conv (+ Dropout 0.5) followed by a
# second conv over [ASPP output, stride-16 layer3 feature], and the encoders see
# (x - 0.45) / 0.225 on [0, 1] images (Monodepth2's), i.e. mean 114.75 / std 57.375
# on 0-255 images. The paper reading (widths 256/128/64/32 + a 256-wide ASPP with a
# 3x3 fusion, ImageNet mean / std) is `paper_decoder` below, used by the
# `*_paper_decoder.py` configs.
data_preprocessor = dict(
    type='DepthSemDataPreProcessor',
    mean=[114.75, 114.75, 114.75],
    std=[57.375, 57.375, 57.375],
    bgr_to_rgb=True,
    size_divisor=32)
encoder_channels = (64, 256, 512, 1024, 2048)
decoder_widths = (64, 128, 128, 256, 256)  # blocks b = 0..4; b = 4 is the ASPP
aspp_options = dict(aspp_skip_conv=True, aspp_fuse_kernel_size=1, aspp_fuse_dropout=0.5)
# the paper-literal reading, for `model.depth_decoder` (and `sem_decoder`) updates
paper_decoder = dict(channels=(32, 64, 128, 256, 256), aspp_skip_conv=False,
                     aspp_fuse_kernel_size=3, aspp_fuse_dropout=0.0)
paper_mean_std = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
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
        scales=(0, 1, 2, 3),
        **aspp_options),
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
