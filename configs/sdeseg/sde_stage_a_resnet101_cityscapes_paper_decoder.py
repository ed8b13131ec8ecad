# SDE-Seg's SDE pretraining, stage A, on the decoder as the paper reads (sec. 4.2):
# ASPP (rates 6/12/18, 256 channels, 3x3 fusion conv, no dropout) and up-blocks of
# widths 256/128/64/32, ImageNet mean / std. The default configs follow the released
# code's decoder instead (sdeseg_resnet101.py; docs/sdeseg.md row 17), which is also
# the layout the released SDE models convert to (docs/model_converters.md).
_base_ = ['./sde_stage_a_resnet101_cityscapes.py']
data_preprocessor = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
model = dict(
    data_preprocessor=data_preprocessor,
    depth_decoder=dict(channels=(32, 64, 128, 256, 256), aspp_skip_conv=False,
                       aspp_fuse_kernel_size=3, aspp_fuse_dropout=0.0))
