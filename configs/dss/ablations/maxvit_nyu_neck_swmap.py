# DSS Table 4 (NYU).
# SW-Map (Yue et al., 2020): a soft semantic map fed to the depth stream.
# The same model, data and schedule as the main config (NearFarMix on); the DSS neck's
# Symbiotic Transformer is replaced by this interaction module after the same task
# necks.
_base_ = ['../maxvit_nyu.py']
model = dict(task_neck=dict(
    _delete_=True,
    type='SWMapNeck',
    in_channels=128,
    channels=128,
    num_convs=2,
    num_classes=150,  # the ADE20K teacher's classes
    norm_cfg=dict(type='LN2d'),
    act_cfg=dict(type='GELU')))
