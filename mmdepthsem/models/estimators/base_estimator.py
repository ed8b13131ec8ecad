"""What every mmdepthsem estimator shares: mmengine's three forward modes."""
from typing import Dict, List, Optional, Tuple, Union

from mmengine.model import BaseModel
from torch import Tensor

from mmdepthsem.structures import DepthSemDataSample

SampleList = List[DepthSemDataSample]


class BaseDepthSemEstimator(BaseModel):
    """Dispatches ``forward(mode=...)`` to :meth:`loss`, :meth:`predict` or
    :meth:`_forward` (``'tensor'``: raw outputs, e.g. for FLOP counting), as the
    mmengine Runner and mmseg's tools call models."""

    def loss(self, inputs: Tensor, data_samples: SampleList) -> Dict[str, Tensor]:
        raise NotImplementedError

    def predict(self, inputs: Tensor,
                data_samples: Optional[SampleList] = None) -> SampleList:
        raise NotImplementedError

    def _forward(self, inputs: Tensor,
                 data_samples: Optional[SampleList] = None) -> Tuple:
        raise NotImplementedError

    def forward(self, inputs: Tensor, data_samples: Optional[SampleList] = None,
                mode: str = 'tensor') -> Union[Dict[str, Tensor], SampleList, Tuple]:
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples)
        raise ValueError(f'{type(self).__name__}: invalid mode {mode!r}; use '
                         "'loss', 'predict' or 'tensor'")
