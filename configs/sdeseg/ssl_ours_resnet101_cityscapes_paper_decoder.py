# SDE-Seg "Ours w/o data selection" (ssl_ours_resnet101_cityscapes.py) on the
# decoders as the paper reads (sec. 4.2): ASPP (rates 6/12/18, 256 channels, 3x3
# fusion conv, no dropout), up-blocks of widths 256/128/64/32, 3x3 segmentation
# heads, ImageNet mean / std; start it from the transfer of
# sde_stage_{a,b}_resnet101_cityscapes_paper_decoder.py-style SDE weights. The
# default configs follow the released code's decoders (widths 64/128/128/256/256,
# 1x1 ASPP fusion + dropout 0.5 + a second conv, 1x1 heads, (x - 0.45) / 0.225
# inputs; docs/sdeseg.md row 17).
_base_ = ['./ssl_ours_resnet101_cityscapes.py']
paper_widths = (32, 64, 128, 256, 256)
paper_aspp = dict(channels=paper_widths, aspp_skip_conv=False,
                  aspp_fuse_kernel_size=3, aspp_fuse_dropout=0.0)
model = dict(
    data_preprocessor={{_base_.paper_mean_std}},
    depth_decoder=paper_aspp,
    sem_decoder=dict(head_kernel_size=3, **paper_aspp),
    cross_task_blocks={2: dict(channels=paper_widths[2])})
load_from = 'work_dirs/sdeseg_transfer_resnet101_cityscapes_paper_decoder.pth'
