# SGRE Table 9 (appendix C.4), row "binary semantic label": the binary branch whose
# features are only concatenated into the depth decoder (aconv fusion), no attention
# and no SEEM (paper: AbsRel 0.108, SqRel 0.784, RMSE 4.588, RMSlog 0.184, d1 0.887).
# Otherwise ../resnet50_kitti.py.
_base_ = ['../resnet50_kitti.py']
model = dict(depth_decoder=dict(attention_blocks=(), seem=None))
custom_hooks = [dict(type='RandomStateHook'), dict(type='SkippedSampleReportHook')]
