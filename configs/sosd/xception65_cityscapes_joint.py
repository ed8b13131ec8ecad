# SOSD-Net (Table 1): joint training without the EM alternation (paper: mIoU 67.2,
# disparity error 2.58 px).
_base_ = ['./xception65_cityscapes.py']
model = dict(alternation=dict(enabled=False))
