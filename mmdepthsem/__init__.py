"""mmdepthsem: joint monocular depth estimation and semantic segmentation.

Importing the package checks that the installed OpenMMLab stack is one this project is
tested with, and says exactly what to install when it is not.
"""
from .version import __version__, version_info


def _check_stack() -> None:
    from importlib.metadata import PackageNotFoundError, version

    from packaging.version import Version

    # (distribution, lowest, highest-exclusive, what to install)
    requirements = [
        ('torch', '2.6.0', '2.14.0',
         'pip install "torch==2.13.0,!=2.13.0+cpu" torchvision==0.28.0'),
        ('mmcv', '2.0.0', '2.2.0',
         'MMCV_WITH_OPS=1 pip install --no-build-isolation mmcv==2.1.0'),
        ('mmengine', '0.10.0', '1.0.0', 'pip install mmengine==0.10.7'),
        ('mmsegmentation', '1.2.0', '1.3.0', 'pip install mmsegmentation==1.2.2'),
    ]
    problems = []
    for dist, low, high, fix in requirements:
        try:
            found = Version(version(dist))
        except PackageNotFoundError:
            problems.append(f'{dist} is not installed; install it with: {fix}')
            continue
        if not Version(low) <= Version(found.base_version) < Version(high):
            problems.append(f'{dist} {found} is installed, but mmdepthsem needs '
                            f'{low} <= {dist} < {high}; install it with: {fix}')
    if problems:
        raise ImportError(
            'mmdepthsem cannot run with the installed packages:\n  - ' +
            '\n  - '.join(problems) +
            '\n`make install` builds the tested environment in .venv '
            '(see docs/get_started.md).')


_check_stack()

# Registers the weights-only checkpoint loader and the atomic file backend.
from .utils import checkpoint as _checkpoint  # noqa: E402,F401

_checkpoint.register_safe_globals()

__all__ = ['__version__', 'version_info']
