"""Generate a synthetic dataset folder once, and skip when it is already up to date.

Each dataset folder gets ``synthetic_manifest.json`` holding the generator version, the
seed, the config and the list of written files. It is written with ``"complete": false``
before rendering and rewritten with ``"complete": true`` at the end, so an interrupted run
is redone. A folder whose complete manifest matches the request (and whose files all
exist) is left alone.
"""
import json
import shutil
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple, Union

from .cityscapes_format import CityscapesConfig, write_cityscapes
from .gta5_format import GTA5Config, write_gta5
from .kitti_format import KITTIConfig, write_kitti
from .nyu_format import NYUConfig, write_nyu
from .source_sequences import (GTA5SequencesConfig, SynthiaSeqsConfig,
                               write_gta5_sequences, write_synthia_seqs)
from .synthia_format import SynthiaConfig, write_synthia
from .writing import WriteResult, write_json

#: Bump when the generator's output changes for equal arguments. 1.3.0 added the
#: ``gta5`` and ``synthia`` source-domain sets; the files of the other sets are
#: byte-identical to 1.2.0 (only their manifests name the new version). 1.3.1 adds
#: the Cityscapes set's labelled split ``splits/train_1-5_seed<seed>.txt``.
GENERATOR_VERSION = '1.3.1'
MANIFEST_NAME = 'synthetic_manifest.json'

AnyConfig = Union[NYUConfig, KITTIConfig, CityscapesConfig, GTA5Config, SynthiaConfig,
                  GTA5SequencesConfig, SynthiaSeqsConfig]

#: Dataset name -> (default config, writer ``(root, config, seed, workers)``).
DATASETS: Dict[str, Tuple[AnyConfig, Callable[..., WriteResult]]] = {
    'nyu': (NYUConfig(), write_nyu),
    'kitti': (KITTIConfig(), write_kitti),
    'cityscapes': (CityscapesConfig(), write_cityscapes),
    'gta5': (GTA5Config(), write_gta5),
    'synthia': (SynthiaConfig(), write_synthia),
    'gta5_sequences': (GTA5SequencesConfig(), write_gta5_sequences),
    'synthia_seqs': (SynthiaSeqsConfig(), write_synthia_seqs),
}

#: Very small sets for unit tests (each renders in well under a second).
TINY_CONFIGS: Dict[str, AnyConfig] = {
    'nyu':
    NYUConfig(height=48, width=64, num_scenes=2, frames_per_scene=3, num_test_scenes=1),
    'kitti':
    KITTIConfig(
        height=32, width=104, num_drives=2, num_test_drives=1, frames_per_drive=4),
    'cityscapes':
    CityscapesConfig(
        height=32,
        width=64,
        train_cities=('aachen', ),
        val_cities=('frankfurt', ),
        train_sequences_per_city=2,
        val_sequences_per_city=1,
        sequence_offsets=(-1, 0, 1)),
    'gta5':
    GTA5Config(height=32, width=58, num_images=4),
    'synthia':
    SynthiaConfig(height=32, width=54, num_images=4),
    'gta5_sequences':
    GTA5SequencesConfig(height=36, width=64, num_sequences=1, frames_per_sequence=4),
    'synthia_seqs':
    SynthiaSeqsConfig(height=38, width=64, num_sequences=1, frames_per_sequence=4),
}

#: The real datasets' image sizes with only a few frames (3-6 training samples and a
#: few test samples each; ``benchmark_paper_configs.py`` repeats the sample list up
#: to a paper config's per-GPU batch): NYU Depth V2 480 x 640, KITTI raw 375 x 1242,
#: Cityscapes 1024 x 2048, GTA5 1052 x 1914, SYNTHIA-RAND-CITYSCAPES 760 x 1280, the
#: VIPER sequences 1080 x 1920 and SYNTHIA-SEQS 760 x 1280 (height x width).
PAPER_CONFIGS: Dict[str, AnyConfig] = {
    'nyu':
    NYUConfig(height=480, width=640, num_scenes=3, frames_per_scene=3, num_test_scenes=1),
    'kitti':
    KITTIConfig(
        height=375, width=1242, num_drives=3, num_test_drives=1, frames_per_drive=5),
    'cityscapes':
    CityscapesConfig(
        height=1024,
        width=2048,
        train_cities=('aachen', ),
        val_cities=('frankfurt', ),
        train_sequences_per_city=3,
        val_sequences_per_city=1,
        sequence_offsets=(-1, 0, 1)),
    'gta5':
    GTA5Config(height=1052, width=1914, num_images=4),
    'synthia':
    SynthiaConfig(height=760, width=1280, num_images=4),
    'gta5_sequences':
    GTA5SequencesConfig(height=1080, width=1920, num_sequences=1, frames_per_sequence=5),
    'synthia_seqs':
    SynthiaSeqsConfig(height=760, width=1280, num_sequences=1, frames_per_sequence=5),
}

#: Preset name -> per-dataset configs (``'default'`` is each dataset's own default).
PRESETS: Dict[str, Dict[str, AnyConfig]] = {
    'default': {name: config for name, (config, _) in DATASETS.items()},
    'tiny': TINY_CONFIGS,
    'paper': PAPER_CONFIGS,
}


@dataclass
class GenerateResult:
    """Outcome of :func:`generate_dataset`.

    Attributes:
        dataset: Dataset name.
        root: Dataset folder.
        skipped: True when an up-to-date folder was found and nothing was written.
        num_files: Files in the folder's manifest.
        seconds: Wall time spent.
    """

    dataset: str
    root: Path
    skipped: bool
    num_files: int
    seconds: float


def _manifest_header(dataset: str, seed: int, config: AnyConfig) -> dict:
    return {
        'generator': 'mmdepthsem.datasets.synthetic',
        'generator_version': GENERATOR_VERSION,
        'dataset': dataset,
        'seed': seed,
        'config': asdict(config)
    }


def _read_manifest(root: Path) -> Optional[dict]:
    try:
        return json.loads((root / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        return None


def is_up_to_date(root: Path, dataset: str, seed: int, config: AnyConfig) -> bool:
    """Whether ``root`` holds a complete dataset made with exactly these arguments."""
    manifest = _read_manifest(root)
    if manifest is None or not manifest.get('complete'):
        return False
    header = json.loads(json.dumps(_manifest_header(dataset, seed, config)))
    if any(manifest.get(k) != v for k, v in header.items()):
        return False
    return all((root / rel).is_file() for rel in manifest.get('files', []))


def generate_dataset(dataset: str,
                     out_dir: Union[str, Path],
                     seed: int = 0,
                     config: Optional[AnyConfig] = None,
                     workers: int = 1,
                     force: bool = False) -> GenerateResult:
    """Write synthetic ``dataset`` under ``out_dir/<dataset>`` unless it is up to date.

    Args:
        dataset: ``'nyu'``, ``'kitti'``, ``'cityscapes'``, ``'gta5'``,
            ``'synthia'``, ``'gta5_sequences'`` or ``'synthia_seqs'``.
        out_dir: Parent folder (e.g. ``data/synthetic``).
        seed: Dataset seed.
        config: Set size; the dataset's default when ``None``.
        workers: Rendering processes.
        force: Regenerate even if up to date, and replace a folder that this generator did
            not write.

    Returns:
        GenerateResult: What happened.

    Raises:
        KeyError: For an unknown dataset name.
        FileExistsError: If the folder exists, is not empty, has no manifest of this
            generator and ``force`` is False.
    """
    if dataset not in DATASETS:
        raise KeyError(
            f'unknown synthetic dataset {dataset!r}; choose from {sorted(DATASETS)}')
    default_config, writer = DATASETS[dataset]
    config = default_config if config is None else config
    if not isinstance(config, type(default_config)):
        raise TypeError(f'{dataset} needs a {type(default_config).__name__}, got '
                        f'{type(config).__name__}')
    root = Path(out_dir) / dataset
    start = time.perf_counter()
    if not force and is_up_to_date(root, dataset, seed, config):
        files = _read_manifest(root)['files']
        return GenerateResult(dataset, root, True, len(files),
                              time.perf_counter() - start)
    if root.exists():
        ours = _read_manifest(root) is not None
        if not (ours or force or not any(root.iterdir())):
            raise FileExistsError(
                f'{root} exists and was not written by the synthetic generator (no '
                f'{MANIFEST_NAME}); remove it or pass force=True / --force')
        shutil.rmtree(root)
    header = _manifest_header(dataset, seed, config)
    write_json(root / MANIFEST_NAME, {**header, 'complete': False})
    written = writer(root, config, seed, workers)
    files = sorted(written.files)
    write_json(root / MANIFEST_NAME, {**header, 'complete': True, 'files': files})
    return GenerateResult(dataset, root, False, len(files), time.perf_counter() - start)


def override_config(config: AnyConfig, **changes) -> AnyConfig:
    """A copy of ``config`` with the non-``None`` ``changes`` applied."""
    return replace(config, **{k: v for k, v in changes.items() if v is not None})
