# SDE-Seg demo, SDE pretraining stage B: the encoder fine-tuned with the feature
# distance L_F (lambda_F = 1e-2) to a frozen copy of the stage-A encoder (the
# reference is copied at the first step, after `load_from`). `make demo-sdeseg`
# passes the stage-A checkpoint as load_from.
_base_ = ['./_sde_resnet18_synthetic.py']
model = dict(feature_distance_loss=dict(type='FeatureDistanceLoss', loss_weight=1e-2))
max_iters = 100
param_scheduler = []
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
