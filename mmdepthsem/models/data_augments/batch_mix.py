"""The batch form of the mixing augmentations: pairs inside a batch, on the device."""
from functools import partial
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.structures import PixelData
from torch import Tensor, nn

from mmdepthsem.datasets.transforms.formatting import PIXEL_FIELDS
from mmdepthsem.datasets.transforms.mixing import (BaseMixTransform, MixPlan,
                                                   MixView, apply_plan_to_tensors)
from mmdepthsem.datasets.transforms.mixing.mix_plan import (MIX_LABEL_KEYS,
                                                            MIX_ZERO_KEYS)
from mmdepthsem.registry import MODELS, TRANSFORMS

#: Data-sample pixel field -> the pipeline key the planners and plans use (the
#: inverse of the packing map, for the fields a mix changes).
SAMPLE_FIELD_KEYS = {field: key for key, (field, _) in PIXEL_FIELDS.items()
                     if key in MIX_LABEL_KEYS + MIX_ZERO_KEYS}


def sample_fields(sample) -> Dict[str, Tensor]:
    """The mixable ``(C, H, W)`` pixel fields of a data sample, by pipeline key."""
    fields = {}
    for name, key in SAMPLE_FIELD_KEYS.items():
        if name in sample:
            fields[key] = getattr(sample, name).data
    if 'img_clean' in sample:
        fields['img_clean'] = sample.img_clean
    return fields


class BaseBatchMix(nn.Module):
    """A mixing augmentation applied to whole batches in the data preprocessor.

    Each sample ``i`` is mixed with sample ``(i + shift) % B`` of the same batch (a
    rolled permutation: no second file read, runs on the training device). The
    planning is delegated to the pipeline transform of the same method
    (``transform_type``, built from the same arguments), so the batch and pipeline
    forms give identical outputs for the same pair and random draws.

    Every sample gets ``mix_mask`` (``(1, H, W)`` bool, ``True`` where the pixel
    is its own) and metainfo ``mix_info`` (method, parameters, ``partner`` index or
    why the mix was skipped), so labels computed later — an online teacher's
    pseudo-labels and confidence (DepthMix eq. 15–16) — can be mixed the same way
    with :func:`mix_like`.

    Use it in ``data_preprocessor.batch_augments``; it receives float RGB images in
    0–255 (before normalisation). Outputs are always computed from the un-mixed
    batch, so a sample that is itself a partner is not mixed twice.

    Args:
        shift: Partner offset in the batch.
        **kwargs: Arguments of the pipeline transform ``transform_type``.
    """

    transform_type: str = ''

    def __init__(self, shift: int = 1, **kwargs) -> None:
        super().__init__()
        self.mixer: BaseMixTransform = TRANSFORMS.build(
            dict(type=self.transform_type, **kwargs))
        if shift < 1:
            raise ValueError(f'{type(self).__name__}: shift must be >= 1, got {shift}')
        self.shift = shift

    def partner_of(self, index: int, batch_size: int) -> int:
        return (index + self.shift) % batch_size

    def forward(self, inputs: Tensor, data_samples: Optional[Sequence]
                ) -> Tuple[Tensor, Optional[Sequence]]:
        """Mix ``inputs`` ``(B, 3, H, W)`` (float, 0–255) and the samples' fields."""
        if data_samples is None:
            raise ValueError(f'{type(self).__name__} needs data samples (depth or '
                             'labels) to mix')
        batch = len(data_samples)
        originals = []
        for i, sample in enumerate(data_samples):
            fields = sample_fields(sample)
            fields['img'] = inputs[i]
            originals.append(fields)
        views: Dict[int, MixView] = {}

        def view(k: int) -> MixView:
            """Sample ``k``'s view, built once and only when a draw needs it."""
            if k not in views:
                maps = {key: v[0] for key, v in originals[k].items()
                        if key != 'img' and v.dim() == 3}
                views[k] = self.mixer.view(
                    maps, inputs.shape[-2:],
                    str(data_samples[k].metainfo.get('img_path', k)))
            return views[k]

        mixed = inputs.clone()
        for i, sample in enumerate(data_samples):
            j = self.partner_of(i, batch)
            if self.mixer.num_partners and j == i:
                plan = MixPlan.unchanged('batch_of_one', method=self.mixer.name)
            else:
                plan = self.mixer.draw_plan(
                    partial(view, i), partial(view, j) if self.mixer.num_partners
                    else None)
            if plan.uses_partner:  # as the pipeline form: only a used partner counts
                self._check_same_fields(originals[i], originals[j], data_samples, i, j)
            out = apply_plan_to_tensors(originals[i], originals[j], plan)
            mixed[i] = out.pop('img')
            self._write_back(sample, out)
            mask = plan.mask if plan.uses_partner else torch.ones(
                inputs.shape[-2:], dtype=torch.bool, device=inputs.device)
            sample.mix_mask = PixelData(data=mask[None])
            info = dict(plan.info)
            if plan.uses_partner:
                info['partner'] = j
            sample.set_metainfo(dict(mix_info=info))
        return mixed, data_samples

    @staticmethod
    def _check_same_fields(a: dict, b: dict, samples, i: int, j: int) -> None:
        if set(a) != set(b):
            raise KeyError(
                f'cannot mix batch samples {i} and {j} '
                f'({samples[i].metainfo.get("img_path")}, '
                f'{samples[j].metainfo.get("img_path")}): fields '
                f'{sorted(set(a) ^ set(b))} are present in only one of them')

    @staticmethod
    def _write_back(sample, fields: Dict[str, Tensor]) -> None:
        for name, key in SAMPLE_FIELD_KEYS.items():
            if key in fields:
                getattr(sample, name).data = fields[key]
        if 'img_clean' in fields:
            sample.img_clean = fields['img_clean']

    def __repr__(self) -> str:
        return f'{type(self).__name__}(shift={self.shift}, mixer={self.mixer!r})'


def mix_like(values: Tensor, data_samples: Sequence) -> Tensor:
    """Mix per-sample maps computed after the batch mix the way the batch was mixed.

    Used for what a teacher produces on the un-mixed images (pseudo-labels,
    confidence): sample ``i`` takes its own value where ``mix_mask`` is ``True``
    and its partner's elsewhere.

    Args:
        values: ``(B, C, H, W)`` or ``(B, H, W)`` maps of the un-mixed batch.
        data_samples: The batch's samples, with ``mix_mask`` and ``mix_info``.

    Returns:
        The mixed maps, same shape. Samples without ``mix_mask`` keep their own.
    """
    out = values.clone()
    for i, sample in enumerate(data_samples):
        if 'mix_mask' not in sample:
            continue
        partner = sample.metainfo.get('mix_info', {}).get('partner')
        if partner is None:
            continue
        mask = sample.mix_mask.data[0]
        if values.dim() == 4:
            mask = mask[None]
        out[i] = torch.where(mask, values[i], values[partner])
    return out


def _batch_class(name: str, transform_type: str, doc: str) -> type:
    cls = type(name, (BaseBatchMix, ), dict(transform_type=transform_type,
                                             __doc__=doc))
    return MODELS.register_module(name=name, module=cls)


BatchNearFarMix = _batch_class(
    'BatchNearFarMix', 'NearFarMix',
    'NearFarMix (:class:`~mmdepthsem.datasets.transforms.NearFarMix`) on batches.')
BatchDepthMix = _batch_class(
    'BatchDepthMix', 'DepthMix',
    'DepthMix (:class:`~mmdepthsem.datasets.transforms.DepthMix`) on batches.')
BatchCutMix = _batch_class(
    'BatchCutMix', 'CutMix',
    'CutMix (:class:`~mmdepthsem.datasets.transforms.CutMix`) on batches.')
BatchClassMix = _batch_class(
    'BatchClassMix', 'ClassMix',
    'ClassMix (:class:`~mmdepthsem.datasets.transforms.ClassMix`) on batches.')
BatchAffineMix = _batch_class(
    'BatchAffineMix', 'AffineMix',
    'AffineMix (:class:`~mmdepthsem.datasets.transforms.AffineMix`) on batches.')
BatchCutDepth = _batch_class(
    'BatchCutDepth', 'CutDepth',
    'CutDepth (:class:`~mmdepthsem.datasets.transforms.CutDepth`) on batches.')
BatchVCutDepth = _batch_class(
    'BatchVCutDepth', 'VCutDepth',
    'V-CutDepth (:class:`~mmdepthsem.datasets.transforms.VCutDepth`) on batches.')

__all__: List[str] = [
    'BaseBatchMix', 'BatchNearFarMix', 'BatchDepthMix', 'BatchCutMix', 'BatchClassMix',
    'BatchAffineMix', 'BatchCutDepth', 'BatchVCutDepth', 'mix_like', 'sample_fields'
]
