# SDE-Seg's SDE model as the official code (lhoyer/improving_segmentation_with_
# selfsupervised_depth, configs/cityscapes_monodepth_highres_dec{5,6}.yml) builds it
# rather than as the paper describes it. It exists so that the released SDE models
# (mono_cityscapes_1024x512_r101dil_aspp_dec{5,6}_*), converted with
# tools/model_converters/sdeseg_to_mmdepthsem.py, compute what they computed in the
# official code (docs/model_converters.md): decoder widths 64/128/128/256/256, block 4
# = ASPP with a 1x1 fusion conv (+ Dropout 0.5) followed by a second conv over
# [ASPP output, stride-16 layer3 feature]; the encoders normalise [0, 1] images with
# (x - 0.45) / 0.225 (Monodepth2), i.e. mean 114.75 / std 57.375 on 0-255 images.
_base_ = ['./sde_stage_a_resnet101_cityscapes.py']
data_preprocessor = dict(mean=[114.75, 114.75, 114.75], std=[57.375, 57.375, 57.375])
model = dict(
    data_preprocessor=data_preprocessor,
    depth_decoder=dict(
        channels=(64, 128, 128, 256, 256),
        aspp_skip_conv=True,
        aspp_fuse_kernel_size=1,
        aspp_fuse_dropout=0.5))
