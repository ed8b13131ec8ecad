# SDE-Seg's SDE pretraining, stage A, on the decoder as the paper reads (sec. 4.2):
# ASPP (rates 6/12/18, 256 channels, 3x3 fusion conv, no dropout) and up-blocks of
# widths 256/128/64/32, ImageNet mean / std (the base model file's `paper_decoder`
# and `paper_mean_std`). The default configs follow the released code's decoder
# instead (sdeseg_resnet101.py; docs/sdeseg.md row 17), which is also the layout the
# released SDE models convert to (docs/model_converters.md).
_base_ = ['./sde_stage_a_resnet101_cityscapes.py']
model = dict(
    data_preprocessor={{_base_.paper_mean_std}},
    depth_decoder={{_base_.paper_decoder}})
