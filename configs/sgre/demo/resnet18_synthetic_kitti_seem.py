# SGRE demo ablation "baseline + SEEM" (Table 2, row 2): the SGRE demo without the
# self-attention modules (semantic branch, fusion and SEEM kept).
_base_ = ['../resnet18_synthetic_kitti.py']
model = dict(depth_decoder=dict(attention_blocks=()))
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(type='SkippedSampleReportHook'),
    dict(type='ModuleGradNormHook', prefixes=('depth_decoder.seem', ))
]
