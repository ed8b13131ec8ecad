# SDE-Seg demo, pseudo-labels row: mean-teacher pseudo-labels on the (jittered,
# blurred) unlabelled crops, no mixing; SDE loss as in the DepthMix row.
_base_ = ['./_ssl_resnet18_synthetic.py']
model = dict(unlabelled_loss='pseudo', mix_partner='unlabelled')
train_dataloader = dict(dataset=dict(mark_labelled=False, exclude_labelled=True))
