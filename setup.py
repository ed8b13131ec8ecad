"""Install mmdepthsem. The heavy, pinned stack is installed by `make install`
(tools/install_env.sh); install_requires lists only what pip can resolve on its own."""
import os.path as osp

from setuptools import find_packages, setup


def read_version() -> str:
    scope: dict = {}
    with open(osp.join('mmdepthsem', 'version.py')) as f:
        exec(compile(f.read(), 'version.py', 'exec'), scope)
    return scope['__version__']


def read_requirements(path: str) -> list:
    reqs = []
    with open(path) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line and not line.startswith('-'):
                reqs.append(line)
    return reqs


setup(
    name='mmdepthsem',
    version=read_version(),
    description='OpenMMLab-style toolbox for joint monocular depth estimation '
    'and semantic segmentation',
    long_description=open('README.md').read() if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    keywords='depth estimation, semantic segmentation, multi-task, self-supervised',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'projects', 'demo')),
    include_package_data=True,
    python_requires='>=3.9',
    install_requires=read_requirements('requirements/runtime.txt'),
    extras_require={
        'mim': read_requirements('requirements/mminstall.txt'),
        'tests': read_requirements('requirements/tests.txt'),
        'optional': read_requirements('requirements/optional.txt'),
    },
    license='Apache License 2.0',
    zip_safe=False)
