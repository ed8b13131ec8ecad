# SDE-Seg Table 3 / Table 10 "ClassMix" (Olsson et al. 2021, re-implemented in the
# SDE-Seg setting): mean teacher, floor(n / 2) of the n classes of an unlabelled
# image's pseudo-label pasted onto the next unlabelled image of the batch, both from
# G_U only (the released experiments.py row `scratch_classmix`: mix_mask 'class',
# only_unlabeled); no SDE loss, ImageNet encoder.
# Paper, 1/8 labels: 63.16 +- 0.89 (Table 3).
_base_ = ['./_ssl_single_task_resnet101_cityscapes.py']
model = dict(unlabelled_loss='mix', depth_loss_weight=0.0, mix_partner='unlabelled',
             mix=dict(_delete_=True, type='BatchClassMix', rounding='floor'))
train_dataloader = dict(dataset=dict(mark_labelled=False, exclude_labelled=True))
load_from = None
