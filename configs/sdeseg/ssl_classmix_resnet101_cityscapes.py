# SDE-Seg Table 3 / Table 10 "ClassMix" (Olsson et al. 2021, re-implemented in the
# SDE-Seg setting): mean teacher, half of the classes of each unlabelled image's
# pseudo-label pasted onto a labelled image; no SDE loss, ImageNet encoder.
# Paper, 1/8 labels: 63.16 +- 0.89 (Table 3).
_base_ = ['./_ssl_resnet101_cityscapes.py']
model = dict(unlabelled_loss='mix', depth_loss_weight=0.0,
             mix=dict(_delete_=True, type='BatchClassMix'))
load_from = None
