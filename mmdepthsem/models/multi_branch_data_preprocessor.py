"""Pre-processing of batches made of several named branches (labelled, unlabelled)."""
from typing import Dict

from mmdepthsem.registry import MODELS
from .data_preprocessor import DepthSemDataPreProcessor


@MODELS.register_module()
class MultiBranchDataPreProcessor(DepthSemDataPreProcessor):
    """:class:`DepthSemDataPreProcessor` applied to each branch of a batch.

    A semi-supervised training batch (``SemiSupervisedDataset``) collates to
    ``{branch: dict(inputs=[...], data_samples=[...])}``; each branch is
    normalised and padded on its own and the result is
    ``dict(inputs={branch: (B_b, 3, H, W)}, data_samples={branch: [...]})``.
    Plain batches (validation, test, a labelled-only run) pass through the parent
    unchanged. ``batch_augments`` apply inside each branch; semi-supervised
    estimators usually mix across branches themselves instead.

    Args:
        **kwargs: :class:`DepthSemDataPreProcessor` arguments.
    """

    def forward(self, data: dict, training: bool = False) -> Dict:
        if 'inputs' in data:
            return super().forward(data, training)
        inputs, samples = {}, {}
        for branch, sub in data.items():
            if not isinstance(sub, dict) or 'inputs' not in sub:
                raise KeyError(f'MultiBranchDataPreProcessor: branch {branch!r} is not '
                               'a collated batch with `inputs`; got '
                               f'{type(sub).__name__}')
            out = super().forward(sub, training)
            inputs[branch], samples[branch] = out['inputs'], out['data_samples']
        return dict(inputs=inputs, data_samples=samples)
