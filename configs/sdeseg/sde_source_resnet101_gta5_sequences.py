# SDE-Seg's source-domain SDE network for GTA5 (Hoyer et al., IJCV 2023, sec. 4.2:
# "output stride 32 and reduced decoder channels"), as the released code trains it
# (configs/sde_dec11.yml with experiments.py id 310, commit cd541578): a ResNet-101
# without dilation (output stride 32), the depth decoder with an intermediate ASPP
# (rates 3/6/9) and widths 16/32/64/128/256 (up-blocks without norm), Monodepth2's
# pose net, frames -1/0/+1 at 4 scales, smoothness 1e-3, on the GTA sequences at
# 1024x512 with 512x512 crops; Adam, lr 1e-4 (encoder 1e-5, pose 1e-4), batch 4,
# /10 after 160k, 350k iterations, the encoder trained from ImageNet weights.
# The pose net sees the uncropped 1024x512 frames (`provide_uncropped_for_pose`,
# KeepUncroppedPoseViews in the pipeline). The release notes that a run which
# collapses to constant depth usually succeeds when rerun.
# Then write the GTA5 estimates the SSDA configs read:
#   python tools/generate_depth_estimates.py \
#       configs/sdeseg/sde_source_resnet101_gta5_sequences.py \
#       work_dirs/sde_source_resnet101_gta5_sequences/iter_350000.pth \
#       --data-config configs/sdeseg/ssda_gta5_to_cityscapes_resnet101.py \
#       --branch source --format sigmoid_disparity16 --scale 1024 512 \
#       --out-dir data/gta5/sde_sigmoid_disparity16/sde_gta5
_base_ = [
    '../_base_/models/sdeseg_resnet101.py',
    '../_base_/datasets/gta5_sequences.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_adam_sde_pretrain.py',
]
model = dict(
    freeze_backbone=False,
    backbone=dict(output_stride=32),
    depth_decoder=dict(channels=(16, 32, 64, 128, 256), aspp_dilations=(3, 6, 9)))
max_iters = 350000
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[160000], gamma=0.1)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
val_cfg = None
test_cfg = None
