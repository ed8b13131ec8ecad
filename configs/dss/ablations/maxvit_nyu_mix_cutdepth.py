# DSS Table 3 (NYU): CutDepth (Ishii & Yamashita, 2021).
# The same model, data and schedule as the main config; only the batch mix
# of the data preprocessor differs (prob 0.5, as NearFarMix's).
_base_ = ['../maxvit_nyu.py']
model = dict(data_preprocessor=dict(batch_augments=[
    dict(type='BatchCutDepth', prob=0.5, mask_source='gt')]))
