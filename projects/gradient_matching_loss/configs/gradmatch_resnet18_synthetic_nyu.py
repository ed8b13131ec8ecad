# The multi-task demo (ResNet-18, U-Net decoder, depth + 40-class semantic heads on the
# embedded synthetic NYU data) with the multi-scale scale-and-shift-invariant gradient
# matching loss of this project ADDED to the depth head's SILog loss. Run from the
# repository root:
#   python tools/train.py \
#       projects/gradient_matching_loss/configs/gradmatch_resnet18_synthetic_nyu.py
_base_ = ['../../../configs/multitask/resnet18_synthetic_nyu.py']
custom_imports = dict(
    imports=['projects.gradient_matching_loss.gradient_matching_loss'],
    allow_failed_imports=False)
# A list replaces the base's single loss dict, so SILog is restated with the base's
# arguments (the project test checks they still match). The gradient term works in
# disparity space (1 / metres) after per-image least-squares scale-and-shift alignment,
# as in MiDaS; its weight 0.5 is MiDaS's alpha.
model = dict(
    depth_head=dict(loss_decode=[
        dict(type='ScaleInvariantLogLoss', alpha=10.0, lambd=0.85),
        dict(type='GradientMatchingLoss', num_scales=4, space='disparity',
             align_scale_shift=True, loss_weight=0.5),
    ]))
