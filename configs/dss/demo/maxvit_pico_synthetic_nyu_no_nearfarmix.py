# Table 3's Baseline for the DSS demo: the demo model without NearFarMix (no mixing).
_base_ = ['../maxvit_pico_synthetic_nyu.py']
model = dict(data_preprocessor=dict(batch_augments=[]))
