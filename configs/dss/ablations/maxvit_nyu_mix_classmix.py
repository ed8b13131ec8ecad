# DSS Table 3 (NYU): ClassMix (Olsson et al., 2021) on the teacher's pseudo-labels.
# The same model, data and schedule as the main config; only the batch mix
# of the data preprocessor differs (prob 0.5, as NearFarMix's).
_base_ = ['../maxvit_nyu.py']
model = dict(data_preprocessor=dict(batch_augments=[
    dict(type='BatchClassMix', prob=0.5)]))
