# DSS Table 4 (KITTI).
# SIG (Zhang et al., 2022): semantic features guide the depth features.
# The same model, data and schedule as the main config (NearFarMix on); the DSS neck's
# Symbiotic Transformer is replaced by this interaction module after the same task
# necks.
_base_ = ['../maxvit_kitti.py']
model = dict(task_neck=dict(
    _delete_=True,
    type='SIGNeck',
    in_channels=128,
    channels=128,
    num_convs=2,
    norm_cfg=dict(type='LN2d'),
    act_cfg=dict(type='GELU')))
