"""A DDP wrapper that also wraps CPU models."""
from mmengine.model import MMDistributedDataParallel

from mmdepthsem.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class DeviceAwareDistributedDataParallel(MMDistributedDataParallel):
    """mmengine's ``MMDistributedDataParallel`` that accepts CPU modules.

    mmengine's Runner always passes ``device_ids=[LOCAL_RANK]``, which torch's DDP
    rejects for a module on the CPU. For CPU modules this wrapper drops
    ``device_ids``/``output_device`` (DDP then all-reduces over gloo); GPU modules
    are wrapped exactly as by the parent class.
    """

    def __init__(self, module, detect_anomalous_params: bool = False, **kwargs):
        first = next(module.parameters(), None)
        if first is not None and first.device.type == 'cpu':
            kwargs.pop('device_ids', None)
            kwargs.pop('output_device', None)
        super().__init__(module, detect_anomalous_params=detect_anomalous_params,
                         **kwargs)
