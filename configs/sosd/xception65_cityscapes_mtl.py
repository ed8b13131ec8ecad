# MTL baseline (Table 1): plain task heads, joint training (paper: mIoU 65.6,
# disparity error 2.64 px).
_base_ = ['./xception65_cityscapes_joint.py']
model = dict(depth_head=dict(with_unit=False), sem_head=dict(with_unit=False))
