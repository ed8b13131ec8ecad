# DSS Table 3 (NYU): AffineMix (Bansal et al., 2023); open choices in its docstring.
# The same model, data and schedule as the main config; only the batch mix
# of the data preprocessor differs (prob 0.5, as NearFarMix's).
_base_ = ['../maxvit_nyu.py']
model = dict(data_preprocessor=dict(batch_augments=[
    dict(type='BatchAffineMix', prob=0.5, mask_source='gt')]))
