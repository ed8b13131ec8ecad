# FSRE Table 1b, row 5 (L_CE + L_SGT + CMA): the full method, identical to
# ../resnet18_kitti.py (kept here so every Table 1b row has a config in this folder).
# Paper: AbsRel 0.105, SqRel 0.722, RMSE 4.547, RMSlog 0.182, d1 0.886, d2 0.964,
# d3 0.984.
_base_ = ['../resnet18_kitti.py']
