from .transforms import *  # noqa: F401,F403
from .base_dataset import BaseDepthSemDataset  # noqa: F401
from .cityscapes import CityscapesDepthSemDataset  # noqa: F401
from .file_list import FileListDepthDataset  # noqa: F401
from .kitti import KITTIRawDataset  # noqa: F401
from .kitti_semantics import KITTISemanticsDataset  # noqa: F401
from .nyu import NYUv2Dataset, NYUv2DenseDataset  # noqa: F401
from .dataset_wrappers import MixedSampleDataset  # noqa: F401
from .sde_pseudo_depth import LoadSDEDisparity, SDEPseudoDepthDataset  # noqa: F401
from .semi_supervised_dataset import SemiSupervisedDataset  # noqa: F401
from .gta5 import GTA5DepthSemDataset  # noqa: F401
from .synthia import LoadSynthiaAnnotation, SynthiaDepthSemDataset  # noqa: F401
from .matching_geometry import MatchingGeometrySourceDataset  # noqa: F401
from .camvid import CamVidDataset  # noqa: F401
from .frame_sequences import (FrameSequenceDataset, GTA5SequenceDataset,  # noqa: F401
                              SynthiaSeqsDataset)
