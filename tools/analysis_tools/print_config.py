"""Print a config fully merged: its ``_base_`` files resolved and overrides applied.

    python tools/analysis_tools/print_config.py CONFIG [--cfg-options KEY=VALUE ...]
        [--save-path merged.py]

The text is mmengine's ``Config.pretty_text``, itself a valid config file, so the
output can be saved (``--save-path``) and used as a stand-alone config.
"""
import argparse
import os
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import Config, DictAction


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, KEY=VALUE (as in the '
                        'training and test tools)')
    parser.add_argument('--save-path', help='also write the merged config here '
                        '(.py, .json or .yaml)')
    return parser.parse_args(argv)


def merged_config(config: str, cfg_options: Optional[dict] = None) -> Config:
    """``config`` with its bases merged and ``cfg_options`` applied."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def main(argv: Optional[Sequence[str]] = None) -> str:
    args = parse_args(argv)
    cfg = merged_config(args.config, args.cfg_options)
    text = cfg.pretty_text
    print(f'Config ({args.config}):\n{text}')
    if args.save_path:
        folder = osp.dirname(osp.abspath(args.save_path))
        os.makedirs(folder, exist_ok=True)
        cfg.dump(args.save_path)
        print(f'saved the merged config to {args.save_path}')
    return text


if __name__ == '__main__':
    main()
