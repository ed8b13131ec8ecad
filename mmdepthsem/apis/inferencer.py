"""Depth + semantics inference on images, folders, arrays and videos."""
import copy
import os
import os.path as osp
import re
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence,
                    Tuple, Union)

import cv2
import numpy as np
import torch
import torch.nn as nn
from mmcv.transforms import Compose
from mmengine.config import Config, ConfigDict
from mmengine.dataset import pseudo_collate
from mmengine.device import get_device
from mmengine.infer import BaseInferencer
from mmengine.logging import print_log
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import FUNCTIONS, init_default_scope
from rich.progress import track

from mmdepthsem.datasets.base_dataset import make_palette
from mmdepthsem.registry import INFERENCERS, MODELS, TRANSFORMS
from mmdepthsem.structures import DepthSemDataSample
from mmdepthsem.utils.checkpoint import load_checkpoint_weights_only
from mmdepthsem.utils.prediction_io import save_depth_png, save_label_png
from mmdepthsem.utils.set_env import register_all_modules
from mmdepthsem.utils.tool_config import load_weights
from mmdepthsem.visualization.colormap import colorize_depth, overlay_sem_seg

InputType = Union[str, np.ndarray]
InputsType = Union[InputType, Sequence[InputType]]
ConfigType = Union[Config, ConfigDict]

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp', '.ppm',
                    '.pgm')
VIDEO_EXTENSIONS = ('.avi', '.mp4', '.mov', '.mkv', '.webm', '.m4v', '.mpg', '.mpeg',
                    '.wmv', '.flv')

# Pipeline steps that read ground truth (or other per-sample files) and have no
# meaning for a bare image: removed from the test pipeline for inference.
ANNOTATION_LOADERS = ('LoadVelodyneDepth', 'LoadCityscapesDisparity', 'LoadPseudoLabel',
                      'LoadDepthEstimate', 'LoadNeighbourFrames')
_ANNOTATION_PATTERN = re.compile(r'^Load\w*Annotations?$')


def _type_name(step: Union[dict, Any]) -> str:
    """The registry name of a pipeline step (``'mmseg.LoadX'`` -> ``'LoadX'``)."""
    name = step.get('type', '') if isinstance(step, dict) else type(step).__name__
    name = name if isinstance(name, str) else getattr(name, '__name__', str(name))
    return name.split('.')[-1]


def is_annotation_loader(step: Union[dict, Any]) -> bool:
    """Whether a pipeline step loads annotations (see :data:`ANNOTATION_LOADERS`)."""
    name = _type_name(step)
    return bool(_ANNOTATION_PATTERN.match(name)) or name in ANNOTATION_LOADERS


def _test_pipeline_cfg(cfg: ConfigType) -> List[dict]:
    """The test dataset's pipeline, looking through dataset wrappers."""
    dataset = cfg.get('test_dataloader', {}).get('dataset')
    while dataset is not None and 'pipeline' not in dataset:
        if 'dataset' in dataset:
            dataset = dataset['dataset']
        elif dataset.get('datasets'):
            dataset = dataset['datasets'][0]
        else:
            dataset = None
    if dataset is None:
        raise KeyError('the config has no test_dataloader.dataset.pipeline to '
                       'preprocess inference inputs with')
    return copy.deepcopy(list(dataset['pipeline']))


class _InMemoryLoader:
    """First pipeline step: takes ``results['img']`` (already decoded) as the image.

    Like mmcv's ``LoadImageFromNDArray`` but keeps ``img_path`` (``None`` for arrays),
    which :class:`~mmdepthsem.datasets.transforms.PackDepthSemInputs` copies into the
    metainfo.
    """

    def __init__(self, to_float32: bool = False) -> None:
        self.to_float32 = to_float32

    def __call__(self, results: dict) -> dict:
        img = results['img']
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results.setdefault('img_path', None)
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results


@INFERENCERS.register_module()
class DepthSemInferencer(BaseInferencer):
    """Predict metric depth and semantic labels for images, folders, arrays, videos.

    Inputs (one, or a list of them, processed in order):

    - an image path;
    - a folder: every image in it (extensions :data:`IMAGE_EXTENSIONS`, not
      recursive), sorted by file name;
    - a video path (extensions :data:`VIDEO_EXTENSIONS`): every frame, read with
      ``cv2.VideoCapture``, named ``<video stem>_<frame index:06d>``;
    - an ``(H, W, 3)`` uint8 BGR numpy array (named ``array_<position:06d>``).

    Each image goes through the config's test pipeline without its annotation loaders
    (:func:`is_annotation_loader`); the image loader is kept for files (so its
    ``color_type`` etc. apply) and replaced by an in-memory loader for arrays and
    video frames. Images are batched ``batch_size`` at a time; images of different
    sizes in one batch are padded by the data preprocessor and the predictions are
    cropped back, so every prediction has its input's size ``(H, W)``.

    Calling the inferencer returns ``dict(predictions=[...], visualization=[...])``;
    each prediction is ``dict(name=str, depth=(H, W) float32 metres or None,
    sem_seg=(H, W) int64 class ids or None)``. ``visualization`` (with
    ``return_vis=True``) holds ``(H, n * W, 3)`` uint8 RGB pictures of the
    visualiser's panels (image | depth | segmentation).

    With ``out_dir`` each input ``<name>`` is written as:

    - ``<name>_depth.png``: uint16 depth in millimetres; ``0`` = invalid (non-finite
      or non-positive). Depths beyond 65.535 m are **clipped** to ``65535``, so use
      the ``.npy`` for far ranges;
    - ``<name>_depth.npy``: float32 depth in metres, unclipped;
    - ``<name>_depth_color.png``: the depth coloured with ``depth_cmap`` over
      ``depth_range`` (per image valid min-max by default);
    - ``<name>_sem.png``: class ids, uint8 for up to 256 classes, else uint16;
    - ``<name>_overlay.png``: the segmentation palette blended over the image.

    The two pictures (colour map and overlay) are left out with
    ``save_pictures=False``; the semantic files when the model has no semantic head.

    Args:
        model: Config file path or :class:`~mmengine.config.Config` (needs ``model``
            and ``test_dataloader.dataset.pipeline``).
        weights: Checkpoint path, loaded with ``weights_only=True`` and the project's
            allow-list (:func:`~mmdepthsem.utils.load_checkpoint_weights_only`);
            ``None`` keeps the random initialisation (with a warning).
        device: ``'cpu'``, ``'cuda'``, ``'cuda:1'``, ...; ``None`` picks the
            available accelerator.
        scope: Default registry scope.
        palette: RGB per class for overlays; default the checkpoint's
            ``meta.dataset_meta.palette``, else a generated palette.
        classes: Class names; default the checkpoint's ``meta.dataset_meta.classes``.
        depth_cmap: matplotlib colour map of the depth pictures.
        depth_range: Fixed ``(vmin, vmax)`` metres of the depth colours (useful for
            videos, where per-frame ranges flicker); ``None`` for per-image ranges.
        alpha: Opacity of the segmentation colours in the overlay, ``[0, 1]``.
        show_progress: Show a progress bar for folders, videos and lists.
    """

    preprocess_kwargs: set = set()
    forward_kwargs: set = set()
    visualize_kwargs: set = {'return_vis', 'show', 'wait_time'}
    postprocess_kwargs: set = {'out_dir', 'save_pictures'}

    def __init__(self,
                 model: Union[str, ConfigType],
                 weights: Optional[str] = None,
                 device: Optional[str] = None,
                 scope: str = 'mmdepthsem',
                 palette: Optional[Sequence[Sequence[int]]] = None,
                 classes: Optional[Sequence[str]] = None,
                 depth_cmap: str = 'turbo',
                 depth_range: Optional[Tuple[float, float]] = None,
                 alpha: float = 0.5,
                 show_progress: bool = True) -> None:
        register_all_modules(init_default_scope=False)
        init_default_scope(scope)
        if isinstance(model, str) and not osp.isfile(model):
            raise FileNotFoundError(f'config file {model} does not exist')
        if weights is not None and not osp.isfile(weights):
            raise FileNotFoundError(f'checkpoint {weights} does not exist')
        if depth_range is not None and not depth_range[0] < depth_range[1]:
            raise ValueError(f'depth_range must be (vmin, vmax) with vmin < vmax, got '
                             f'{depth_range}')
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f'alpha must be in [0, 1], got {alpha}')
        self.depth_cmap = depth_cmap
        self.depth_range = tuple(depth_range) if depth_range is not None else None
        self.alpha = alpha
        self._user_meta = dict(palette=palette, classes=classes)
        device = device or get_device()
        super().__init__(model=model, weights=weights, device=device, scope=scope,
                         show_progress=show_progress)
        if device == 'cpu' or not torch.cuda.is_available():
            self.model = revert_sync_batchnorm(self.model)
        self.dataset_meta = self._resolve_dataset_meta()
        if self.visualizer is not None:
            self.visualizer.dataset_meta = self.dataset_meta
            if self.depth_range is not None and hasattr(self.visualizer, 'depth_range'):
                self.visualizer.depth_range = self.depth_range

    # ------------------------------------------------------------------ building

    def _init_model(self, cfg: ConfigType, weights: Optional[str],
                    device: str = 'cpu') -> nn.Module:
        """Build ``cfg.model`` with mmdepthsem's registry and load ``weights``.

        With weights given, a backbone's ``pretrained`` download is switched off:
        the checkpoint overwrites those weights anyway.
        """
        checkpoint = None
        if weights is not None:
            checkpoint = load_checkpoint_weights_only(weights, map_location='cpu')
            if not isinstance(checkpoint, dict):
                raise TypeError(f'checkpoint {weights} holds a {type(checkpoint)}, '
                                'not a dict of weights')
        model_cfg = copy.deepcopy(cfg.model)
        model_cfg.pop('pretrained', None)
        backbone = model_cfg.get('backbone')
        if checkpoint is not None and isinstance(backbone, dict) \
                and backbone.get('pretrained'):
            backbone['pretrained'] = False
        model = MODELS.build(model_cfg)
        model.cfg = cfg
        self._checkpoint_meta = (checkpoint or {}).get('meta') or {}
        self._load_weights_to_model(model, checkpoint, cfg)
        model.to(device)
        model.eval()
        return model

    def _load_weights_to_model(self, model: nn.Module, checkpoint: Optional[dict],
                               cfg: Optional[ConfigType]) -> None:
        """Load the state dict (``checkpoint['state_dict']`` or the dict itself)."""
        if checkpoint is None:
            print_log('DepthSemInferencer: no checkpoint given, predicting with a '
                      'randomly initialised model', logger='current', level=30)
            return
        load_weights(model, checkpoint, strict=False)

    def _resolve_dataset_meta(self) -> dict:
        """Classes and palette: user arguments, else checkpoint, else generated."""
        saved = self._checkpoint_meta.get('dataset_meta') or {}
        classes = self._user_meta['classes'] or saved.get('classes')
        palette = self._user_meta['palette'] or saved.get('palette')
        if palette is None:
            palette = make_palette(self.num_classes or 256)
        meta = dict(palette=[list(map(int, c)) for c in palette])
        if classes is not None:
            meta['classes'] = list(classes)
        return meta

    @property
    def num_classes(self) -> Optional[int]:
        """Number of semantic classes (``None`` without a semantic head)."""
        head = getattr(self.model, 'sem_head', None)
        if head is None:
            return None
        return int(getattr(head, 'num_classes', 0) or getattr(head, 'out_channels', 0)
                   or 0) or None

    def _init_pipeline(self, cfg: ConfigType) -> Callable:
        """The test pipeline without annotation loaders, behind an in-memory loader.

        The config's image loader is built separately (``self.image_loader``) and
        used to read files before the pipeline, so that the decoded image is kept for
        the pictures; the pipeline then starts from the decoded image.
        """
        steps = [s for s in _test_pipeline_cfg(cfg) if not is_annotation_loader(s)]
        loader_index = [i for i, s in enumerate(steps)
                        if _type_name(s).endswith('LoadImageFromFile')]
        if not loader_index:
            raise KeyError('the test pipeline has no LoadImageFromFile step to '
                           'replace with an in-memory loader')
        loader_cfg = steps.pop(loader_index[0])
        self.image_loader = TRANSFORMS.build(loader_cfg)
        to_float32 = bool(loader_cfg.get('to_float32', False))
        return Compose([_InMemoryLoader(to_float32)] +
                       [TRANSFORMS.build(s) if isinstance(s, dict) else s
                        for s in steps])

    def _init_collate(self, cfg: ConfigType) -> Callable:
        """``test_dataloader.collate_fn`` from mmengine's function registry, else
        ``pseudo_collate`` (what the data preprocessor expects by default)."""
        collate_cfg = cfg.get('test_dataloader', {}).get('collate_fn')
        if collate_cfg is None:
            return pseudo_collate
        name = collate_cfg['type'] if isinstance(collate_cfg, dict) else collate_cfg
        collate_fn = FUNCTIONS.get(name)
        if collate_fn is None:
            raise KeyError(f'collate_fn {name!r} is not registered in FUNCTIONS')
        return collate_fn

    def _init_visualizer(self, cfg: ConfigType):
        """The config's visualiser without vis backends (pictures are returned or
        written by the inferencer itself)."""
        if 'visualizer' not in cfg:
            return None
        cfg = copy.deepcopy(cfg)
        cfg.visualizer.pop('vis_backends', None)
        cfg.visualizer.pop('save_dir', None)
        return super()._init_visualizer(cfg)

    # -------------------------------------------------------------------- inputs

    def _inputs_to_list(self, inputs: InputsType) -> list:
        """Validate the inputs and expand folders; videos stay single entries.

        Raises:
            FileNotFoundError: A path that does not exist (named in the message).
            ValueError: A folder without images, or an unsupported input type.
        """
        if isinstance(inputs, (str, os.PathLike, np.ndarray)):
            inputs = [inputs]
        expanded = []
        for entry in inputs:
            if isinstance(entry, os.PathLike):
                entry = os.fspath(entry)
            if isinstance(entry, np.ndarray):
                if entry.ndim != 3 or entry.shape[2] != 3:
                    raise ValueError('array inputs must be (H, W, 3) BGR images, got '
                                     f'shape {entry.shape}')
                expanded.append(entry)
            elif isinstance(entry, str):
                if osp.isdir(entry):
                    files = sorted(f for f in os.listdir(entry)
                                   if f.lower().endswith(IMAGE_EXTENSIONS)
                                   and osp.isfile(osp.join(entry, f)))
                    if not files:
                        raise ValueError(f'input folder {entry} holds no images '
                                         f'({", ".join(IMAGE_EXTENSIONS)})')
                    expanded.extend(osp.join(entry, f) for f in files)
                elif osp.isfile(entry):
                    expanded.append(entry)
                else:
                    raise FileNotFoundError(f'input {entry} does not exist')
            else:
                raise ValueError('inputs must be image/video/folder paths or numpy '
                                 f'arrays, got {type(entry)}')
        return expanded

    @staticmethod
    def is_video(path: Any) -> bool:
        """Whether ``path`` is a string naming a video file (by extension)."""
        return isinstance(path, str) and path.lower().endswith(VIDEO_EXTENSIONS)

    @staticmethod
    def _video_frames(path: str) -> Iterator[Tuple[int, np.ndarray]]:
        """``(index, (H, W, 3) uint8 BGR frame)`` of every frame of a video."""
        capture = cv2.VideoCapture(path)
        if not capture.isOpened():
            raise OSError(f'could not open video {path} (codec or file problem)')
        try:
            index = 0
            while True:
                ok, frame = capture.read()
                if not ok:
                    break
                yield index, frame
                index += 1
        finally:
            capture.release()
        if index == 0:
            raise OSError(f'video {path} has no readable frames')

    @staticmethod
    def _frame_count(path: str) -> int:
        capture = cv2.VideoCapture(path)
        try:
            return max(int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
        finally:
            capture.release()

    def _iter_items(self, entries: list
                    ) -> Iterator[Tuple[str, np.ndarray, Optional[str]]]:
        """``(unique name, decoded (H, W, 3) BGR image, path or None)`` per image;
        a repeated name gets a ``_1``, ``_2``, ... suffix."""
        seen: Dict[str, int] = {}

        def unique(name: str) -> str:
            count = seen.get(name, 0)
            seen[name] = count + 1
            return name if count == 0 else f'{name}_{count}'

        for position, entry in enumerate(entries):
            if isinstance(entry, np.ndarray):
                yield unique(f'array_{position:06d}'), entry, None
            elif self.is_video(entry):
                stem = osp.splitext(osp.basename(entry))[0]
                for index, frame in self._video_frames(entry):
                    yield unique(f'{stem}_{index:06d}'), frame, None
            else:
                image = self.image_loader(dict(img_path=entry))['img']
                yield unique(osp.splitext(osp.basename(entry))[0]), image, entry

    def _count(self, entries: list) -> int:
        """How many images ``entries`` hold (video frame counts as reported)."""
        total = 0
        for entry in entries:
            total += self._frame_count(entry) if self.is_video(entry) else 1
        return total

    # ------------------------------------------------------------------ running

    def __call__(self,
                 inputs: InputsType,
                 return_datasamples: bool = False,
                 batch_size: int = 1,
                 **kwargs) -> dict:
        """Predict every input, batch by batch (videos are streamed, not buffered).

        Args:
            inputs: See the class docstring.
            return_datasamples: Return the :class:`DepthSemDataSample` s instead of
                numpy dicts in ``predictions``.
            batch_size: Images per forward pass.
            **kwargs: ``return_vis`` (bool), ``show`` (bool), ``wait_time`` (s),
                ``out_dir`` (str), ``save_pictures`` (bool).

        Returns:
            ``dict(predictions=[...], visualization=[...])`` (see the class
            docstring); ``visualization`` is empty unless ``return_vis``.
        """
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        _, forward_kwargs, visualize_kwargs, postprocess_kwargs = \
            self._dispatch_kwargs(**kwargs)
        entries = self._inputs_to_list(inputs)
        many = len(entries) > 1 or any(self.is_video(e) for e in entries)
        chunks: Iterable = self._get_chunk_data(self._iter_items(entries), batch_size)
        if self.show_progress and many:
            total = self._count(entries)
            chunks = track(chunks, total=-(-total // batch_size) if total else None,
                           description='Inference')
        results: Dict[str, list] = dict(predictions=[], visualization=[])
        for chunk in chunks:
            names = [name for name, _, _ in chunk]
            images = [image for _, image, _ in chunk]
            data = self.collate_fn([
                self.pipeline(dict(img=image, img_path=path))
                for _, image, path in chunk])
            preds = self.forward(data, **forward_kwargs)
            visualization = self.visualize(images, preds, names=names,
                                           **visualize_kwargs)
            out = self.postprocess(preds, visualization, return_datasamples,
                                   names=names, images=images, **postprocess_kwargs)
            results['predictions'].extend(out['predictions'])
            results['visualization'].extend(out['visualization'] or [])
        return results

    @torch.no_grad()
    def forward(self, inputs: dict, **kwargs) -> List[DepthSemDataSample]:
        """``model.test_step`` on one collated batch."""
        return self.model.test_step(inputs)

    def visualize(self,
                  inputs: List[np.ndarray],
                  preds: List[DepthSemDataSample],
                  return_vis: bool = False,
                  show: bool = False,
                  wait_time: float = 0,
                  names: Optional[List[str]] = None) -> Optional[List[np.ndarray]]:
        """Panel pictures of the predictions (image | depth | segmentation).

        Args:
            inputs: The decoded ``(H, W, 3)`` BGR images.
            preds: The model's data samples.
            return_vis: Return the pictures.
            show: Display each picture in a window.
            wait_time: Seconds to display each; ``0`` waits for a key.
            names: Window titles.

        Returns:
            ``(H, n * W, 3)`` uint8 RGB pictures, or ``None`` when neither
            ``return_vis`` nor ``show``.
        """
        if not (return_vis or show):
            return None
        if self.visualizer is None:
            raise ValueError('the config has no visualizer to draw pictures with')
        pictures = []
        for i, (image, pred) in enumerate(zip(inputs, preds)):
            name = names[i] if names else f'image_{i}'
            picture = self.visualizer.add_datasample(
                name, _to_uint8(image)[..., ::-1], pred, draw_gt=False,
                show=show, wait_time=wait_time, out_file=None)
            pictures.append(picture)
        return pictures if return_vis else None

    def postprocess(self,
                    preds: List[DepthSemDataSample],
                    visualization: Optional[List[np.ndarray]],
                    return_datasample: bool = False,
                    out_dir: Optional[str] = None,
                    save_pictures: bool = True,
                    names: Optional[List[str]] = None,
                    images: Optional[List[np.ndarray]] = None) -> dict:
        """Convert the samples to numpy dicts and write the files to ``out_dir``.

        Args:
            preds: The model's data samples.
            visualization: Pictures from :meth:`visualize`, or ``None``.
            return_datasample: Return the samples themselves as predictions.
            out_dir: Folder for the files listed in the class docstring; ``None``
                writes nothing.
            save_pictures: Also write ``_depth_color.png`` and ``_overlay.png``.
            names: Output name per sample.
            images: Decoded ``(H, W, 3)`` BGR image per sample (for overlays).

        Returns:
            ``dict(predictions=[...], visualization=[...] or None)``.
        """
        names = names or [f'{i:06d}' for i in range(len(preds))]
        predictions = []
        for i, (name, sample) in enumerate(zip(names, preds)):
            prediction = self.sample_to_dict(sample, name)
            if out_dir is not None:
                self.save_prediction(out_dir, prediction,
                                     images[i] if images is not None else None,
                                     save_pictures)
            predictions.append(sample if return_datasample else prediction)
        return dict(predictions=predictions, visualization=visualization)

    @staticmethod
    def sample_to_dict(sample: DepthSemDataSample, name: str) -> dict:
        """``dict(name, depth=(H, W) float32 metres, sem_seg=(H, W) int64)``; a field
        the model does not predict is ``None``."""
        depth = sem_seg = None
        if 'pred_depth_map' in sample:
            depth = sample.pred_depth_map.data.detach().cpu().numpy()[0]
            depth = depth.astype(np.float32)
        if 'pred_sem_seg' in sample:
            sem_seg = sample.pred_sem_seg.data.detach().cpu().numpy()[0]
            sem_seg = sem_seg.astype(np.int64)
        return dict(name=name, depth=depth, sem_seg=sem_seg)

    def save_prediction(self, out_dir: str, prediction: dict,
                        image: Optional[np.ndarray] = None,
                        save_pictures: bool = True) -> List[str]:
        """Write one prediction's files (see the class docstring).

        Args:
            out_dir: Output folder (created on demand).
            prediction: A dict from :meth:`sample_to_dict`.
            image: The ``(H, W, 3)`` BGR input, needed for the overlay.
            save_pictures: Write the colour map and overlay pictures.

        Returns:
            The paths written.
        """
        os.makedirs(out_dir, exist_ok=True)
        base = osp.join(out_dir, prediction['name'])
        written = []
        depth = prediction['depth']
        if depth is not None:
            save_depth_png(base + '_depth.png', depth)
            np.save(base + '_depth.npy', depth.astype(np.float32))
            written += [base + '_depth.png', base + '_depth.npy']
            if save_pictures:
                vmin, vmax = self.depth_range or (None, None)
                colour = colorize_depth(depth, vmin, vmax, self.depth_cmap)
                _imwrite(base + '_depth_color.png', colour[..., ::-1])
                written.append(base + '_depth_color.png')
        sem_seg = prediction['sem_seg']
        if sem_seg is not None:
            if (self.num_classes or 0) <= 256 and sem_seg.max(initial=0) <= 255:
                save_label_png(base + '_sem.png', sem_seg)
            else:
                _imwrite(base + '_sem.png', sem_seg.astype(np.uint16))
            written.append(base + '_sem.png')
            if save_pictures and image is not None:
                rgb = _to_uint8(image)[..., ::-1]
                overlay = overlay_sem_seg(rgb, sem_seg, self.dataset_meta['palette'],
                                          self.alpha)
                _imwrite(base + '_overlay.png', overlay[..., ::-1])
                written.append(base + '_overlay.png')
        return written


def _to_uint8(image: np.ndarray) -> np.ndarray:
    """An image as uint8 (float images are clipped to ``[0, 255]``)."""
    if image.dtype == np.uint8:
        return image
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def _imwrite(path: str, image: np.ndarray) -> None:
    if not cv2.imwrite(path, np.ascontiguousarray(image)):
        raise OSError(f'could not write {path}')
