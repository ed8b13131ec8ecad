# SDE-Seg "Ours w/o data selection" (ssl_ours_resnet101_cityscapes.py) on the network
# as the released code builds it (lhoyer/improving_segmentation_with_selfsupervised_
# depth, experiments.py id 212 'pad_transfer_dcompgt', decoder variant dec6), for a
# run that starts from released SDE weights converted with
# tools/model_converters/sdeseg_to_mmdepthsem.py and then
# tools/model_converters/sde_to_segmentation.py (docs/model_converters.md):
#  - both decoders: widths 64/128/128/256/256, block 4 = ASPP with a 1x1 fusion conv
#    (+ Dropout 0.5) and a second conv over [ASPP output, stride-16 feature]
#    (sde_stage_a_resnet101_cityscapes_official.py);
#  - the segmentation head is a 1x1 conv on the last block (the release's
#    `seg_final_head`), the intermediate head a 1x1 conv on block 2 before the
#    distillation (`seg_intermediate_head`), their labelled cross-entropies averaged;
#  - images normalised as (x - 0.45) / 0.225 on [0, 1] (Monodepth2's encoders).
_base_ = ['./ssl_ours_resnet101_cityscapes.py']
official_widths = (64, 128, 128, 256, 256)
official_aspp = dict(channels=official_widths, aspp_skip_conv=True,
                     aspp_fuse_kernel_size=1, aspp_fuse_dropout=0.5)
model = dict(
    data_preprocessor=dict(mean=[114.75, 114.75, 114.75], std=[57.375, 57.375, 57.375]),
    depth_decoder=official_aspp,
    sem_decoder=dict(head_kernel_size=1, side_outputs=(2, ), **official_aspp),
    cross_task_blocks={2: dict(channels=official_widths[2])})
load_from = 'work_dirs/sdeseg_transfer_resnet101_cityscapes_official.pth'
