# DSS Table 3 (NYU): NearFarMix, the paper's choice: identical to ../maxvit_nyu.py.
# The same model, data and schedule as the main config; only the batch mix
# of the data preprocessor differs (prob 0.5, as NearFarMix's).
_base_ = ['../maxvit_nyu.py']
