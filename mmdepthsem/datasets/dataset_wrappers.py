"""A dataset wrapper that hands two-image augmentations their second sample."""
import copy
from typing import List, Optional, Sequence, Union

from mmengine.dataset import force_full_init

from mmdepthsem.registry import DATASETS, TRANSFORMS


@DATASETS.register_module()
class MixedSampleDataset:
    """Run a dataset's pipeline, then a pipeline of mixing transforms on top.

    The pattern of mmdet's ``MultiImageMixDataset``: the wrapped ``dataset`` loads
    and geometrically transforms each sample with its own pipeline (which must not
    pack); this wrapper then runs ``pipeline``. Before a transform that has
    ``get_indexes`` (every two-image mix), it draws the partner indices, fetches
    those samples through the wrapped dataset's pipeline — so both samples have the
    same size — and passes them in ``results['mix_results']``.

    Example::

        train_dataloader = dict(dataset=dict(
            type='MixedSampleDataset',
            dataset=dict(type='NYUv2Dataset', ..., pipeline=[load, crop, flip]),
            pipeline=[dict(type='NearFarMix', depth_range=(1.5, 6.5), prob=0.5),
                      dict(type='PackDepthSemInputs')]))

    Args:
        dataset: The wrapped dataset or its config.
        pipeline: Transforms run after the wrapped dataset's pipeline.
        skip_type_keys: Names of transform types to skip (e.g. to switch mixing
            off for the last epochs via :meth:`update_skip_type_keys`).
        lazy_init: Defer the wrapped dataset's ``full_init``.
    """

    def __init__(self,
                 dataset: Union[dict, object],
                 pipeline: Sequence[Union[dict, callable]],
                 skip_type_keys: Optional[Sequence[str]] = None,
                 lazy_init: bool = False) -> None:
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        self.pipeline = [TRANSFORMS.build(t) if isinstance(t, dict) else t
                         for t in pipeline]
        self.pipeline_types = [type(t).__name__ for t in self.pipeline]
        self._skip_type_keys: List[str] = []
        self.update_skip_type_keys(skip_type_keys or [])
        self._metainfo = self.dataset.metainfo
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self._metainfo)

    def full_init(self) -> None:
        if self._fully_initialized:
            return
        self.dataset.full_init()
        self._fully_initialized = True

    def update_skip_type_keys(self, skip_type_keys: Sequence[str]) -> None:
        """Skip the transforms whose type names are listed (e.g. from a hook)."""
        unknown = [k for k in skip_type_keys if k not in self.pipeline_types]
        if unknown:
            raise KeyError(f'MixedSampleDataset: skip_type_keys {unknown} are not in '
                           f'the pipeline {self.pipeline_types}')
        self._skip_type_keys = list(skip_type_keys)

    @force_full_init
    def __len__(self) -> int:
        return len(self.dataset)

    @force_full_init
    def get_data_info(self, idx: int) -> dict:
        return self.dataset.get_data_info(idx)

    def __getitem__(self, idx: int) -> dict:
        # every fetch returns new objects (the data info is deep-copied and the
        # pipeline builds new arrays), so nothing here is copied again
        results = self.dataset[idx]
        for transform, name in zip(self.pipeline, self.pipeline_types):
            if name in self._skip_type_keys:
                continue
            if hasattr(transform, 'get_indexes'):
                indexes = transform.get_indexes(self.dataset)
                results['mix_results'] = [self.dataset[i] for i in indexes]
            results = transform(results)
            if results is None:
                raise RuntimeError(f'MixedSampleDataset: {name} returned None for '
                                   f'sample {idx}; mixing transforms must not drop '
                                   'samples')
            results.pop('mix_results', None)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(dataset={type(self.dataset).__name__}, '
                f'len={len(self)}, pipeline={self.pipeline_types})')

