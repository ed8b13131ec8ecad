# The multi-task demo (ResNet-18, U-Net decoder, depth + 40-class semantic heads on the
# embedded synthetic NYU data) with this project's cross-stitch task neck between the
# decoder and the heads. Run from the repository root:
#   python tools/train.py \
#       projects/example_project/configs/cross_stitch_resnet18_synthetic_nyu.py
_base_ = ['../../../configs/multitask/resnet18_synthetic_nyu.py']
custom_imports = dict(
    imports=['projects.example_project.example_project'], allow_failed_imports=False)
# in_channels = the width of the demo decoder's only output map D_1 (channels[0]), which
# is also what both heads read; init = (alpha_same, alpha_other) of the paper.
model = dict(
    task_neck=dict(type='CrossStitchNeck', in_channels=64, init=(0.9, 0.1)))
# No weight decay on the mixing weights: it would shrink both tasks' signals towards 0.
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'task_neck.stitches': dict(decay_mult=0.0)}))
