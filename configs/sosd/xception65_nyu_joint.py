# SOSD-Net (Tables 2-3, "SOSD-Net"): the same model trained jointly on
# L_depth + L_sem every step, without the EM alternation (paper: rel 0.149, d1 0.797,
# mIoU 43.3).
_base_ = ['./xception65_nyu.py']
model = dict(alternation=dict(enabled=False))
