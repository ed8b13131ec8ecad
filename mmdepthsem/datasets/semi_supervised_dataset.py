"""Labelled, unlabelled (and source-domain) samples for semi-supervised training."""
import copy
from typing import Optional, Union

import numpy as np
from mmengine.dataset import force_full_init

from mmdepthsem.registry import DATASETS


@DATASETS.register_module()
class SemiSupervisedDataset:
    """One labelled and one unlabelled sample per index, as two named branches.

    Item ``i`` is ``dict(labelled=<a random labelled sample>, unlabelled=<unlabelled
    sample i>)``, each the packed output of its own dataset's pipeline; mmengine's
    ``pseudo_collate`` turns a list of them into
    ``{branch: dict(inputs=[...], data_samples=[...])}``, which
    ``MultiBranchDataPreProcessor`` normalises per branch. The length is the
    unlabelled set's, so an epoch visits every unlabelled image once, and the
    labelled partner is drawn uniformly with NumPy's global generator (seeded per
    dataloader worker by mmengine). With a batch size of 2 this is SDE-Seg's "clean
    labelled batch of 2 and mixed batch of 2".

    Example::

        dataset=dict(
            type='SemiSupervisedDataset',
            labelled=dict(type='CityscapesDepthSemDataset', subset_file=...,
                          pipeline=labelled_pipeline),
            unlabelled=dict(type='CityscapesDepthSemDataset', frame_ids=(-1, 1),
                            pipeline=unlabelled_pipeline))

    Semi-supervised domain adaptation (§3.5) adds a ``source`` branch: a labelled
    source-domain sample (GTA5, Synthia) drawn uniformly, or — with
    ``source_matched=True`` — ``source[i]``, for a source dataset indexed by the
    unlabelled target index such as ``MatchingGeometrySourceDataset`` built on the
    same unlabelled target set (Matching Geometry Sampling, eq. 22–23). A source
    with ``match_to_sample`` (the matching dataset) is handed this item's unlabelled
    sample, so with ``match_on='training_crop'`` it matches on the crop that sample
    got.

    With ``mark_labelled=True`` the unlabelled branch is SDE-Seg's pool
    ``G_A ∪ G_U`` (every training image, its pipeline loading the annotations):
    each unlabelled sample gets metainfo ``is_labelled`` (its ``img_path`` is one of
    the labelled dataset's), and the ``gt_sem_seg`` of the samples outside the
    labelled split is dropped here, so no model can read labels the split does not
    grant (``MeanTeacherDepthSegEstimator(mix_partner='pool')``). With
    ``exclude_labelled=True`` the unlabelled branch is ``G_U`` only: its images of
    the labelled split are skipped (the length shrinks accordingly).

    Args:
        labelled: The labelled dataset (or its config).
        unlabelled: The unlabelled dataset (or its config); may contain the
            labelled images too (the paper's pool is every training image).
        source: Optional source-domain dataset (or config).
        source_matched: ``source`` is indexed by the unlabelled index.
        mark_labelled: Mark the unlabelled samples of the labelled split and
            drop the others' annotations (see above).
        exclude_labelled: Leave the labelled split's images out of the
            unlabelled branch.
        lazy_init: Defer the datasets' ``full_init``.
    """

    def __init__(self, labelled: Union[dict, object], unlabelled: Union[dict, object],
                 source: Optional[Union[dict, object]] = None,
                 source_matched: bool = False,
                 mark_labelled: bool = False,
                 exclude_labelled: bool = False,
                 lazy_init: bool = False) -> None:
        self.labelled = _build(labelled)
        self.unlabelled = _build(unlabelled)
        self.source = _build(source) if source is not None else None
        if source_matched and self.source is None:
            raise ValueError('SemiSupervisedDataset: source_matched needs a `source`')
        self.source_matched = source_matched
        if mark_labelled and exclude_labelled:
            raise ValueError('SemiSupervisedDataset: mark_labelled (the pool G_A ∪ '
                             'G_U) and exclude_labelled (G_U only) exclude each other')
        self.mark_labelled = mark_labelled
        self.exclude_labelled = exclude_labelled
        self.labelled_paths = frozenset()
        self.pool_indices = None
        self._metainfo = self.labelled.metainfo
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self._metainfo)

    def full_init(self) -> None:
        if self._fully_initialized:
            return
        self.labelled.full_init()
        self.unlabelled.full_init()
        if self.source is not None:
            self.source.full_init()
        if len(self.labelled) == 0 or len(self.unlabelled) == 0:
            raise ValueError(
                f'SemiSupervisedDataset: {len(self.labelled)} labelled and '
                f'{len(self.unlabelled)} unlabelled samples; both must be non-empty '
                '(check subset_file / data_root)')
        if self.mark_labelled or self.exclude_labelled:
            self.labelled_paths = frozenset(
                self.labelled.get_data_info(i)['img_path']
                for i in range(len(self.labelled)))
        if self.exclude_labelled:
            self.pool_indices = [
                i for i in range(len(self.unlabelled))
                if self.unlabelled.get_data_info(i)['img_path'] not in
                self.labelled_paths]
            if not self.pool_indices:
                raise ValueError('SemiSupervisedDataset(exclude_labelled=True): every '
                                 'unlabelled image is in the labelled split')
        self._fully_initialized = True

    def _unlabelled_index(self, idx: int) -> int:
        return idx if self.pool_indices is None else self.pool_indices[idx]

    @force_full_init
    def __len__(self) -> int:
        if self.pool_indices is not None:
            return len(self.pool_indices)
        return len(self.unlabelled)

    @force_full_init
    def get_data_info(self, idx: int) -> dict:
        return self.unlabelled.get_data_info(self._unlabelled_index(idx))

    @force_full_init
    def __getitem__(self, idx: int) -> dict:
        partner = int(np.random.randint(len(self.labelled)))
        idx = self._unlabelled_index(idx)
        item = dict(labelled=self.labelled[partner], unlabelled=self.unlabelled[idx])
        if self.mark_labelled:
            self._mark(item['unlabelled'])
        if self.source is not None:
            if self.source_matched and hasattr(self.source, 'match_to_sample'):
                # a matching dataset decides what it compares (e.g. the crop this
                # unlabelled sample got, match_on='training_crop')
                item['source'] = self.source.match_to_sample(idx, item['unlabelled'])
            else:
                source = idx if self.source_matched else \
                    int(np.random.randint(len(self.source)))
                item['source'] = self.source[source]
        return item

    def _mark(self, packed: dict) -> None:
        """Set ``is_labelled`` on a packed pool sample; drop labels it may not use."""
        sample = packed['data_samples']
        path = sample.metainfo.get('img_path')
        if path is None:
            raise KeyError('SemiSupervisedDataset(mark_labelled=True): an unlabelled '
                           'sample has no `img_path` in its metainfo')
        is_labelled = path in self.labelled_paths
        sample.set_metainfo(dict(is_labelled=is_labelled))
        if not is_labelled and 'gt_sem_seg' in sample:
            del sample.gt_sem_seg

    def __repr__(self) -> str:
        source = '' if self.source is None else \
            f', source={type(self.source).__name__} x{len(self.source)}'
        return (f'{type(self).__name__}(labelled={type(self.labelled).__name__} '
                f'x{len(self.labelled)}, unlabelled={type(self.unlabelled).__name__} '
                f'x{len(self.unlabelled)}{source})')


def _build(dataset: Union[dict, object]) -> object:
    return DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
