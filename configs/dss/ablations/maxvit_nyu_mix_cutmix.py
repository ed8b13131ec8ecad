# DSS Table 3 (NYU): CutMix (Yun et al., 2019).
# The same model, data and schedule as the main config; only the batch mix
# of the data preprocessor differs (prob 0.5, as NearFarMix's).
_base_ = ['../maxvit_nyu.py']
model = dict(data_preprocessor=dict(batch_augments=[
    dict(type='BatchCutMix', prob=0.5)]))
