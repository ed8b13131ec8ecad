"""Before / after timings of a benchmark command: a git revision vs the working tree.

    python tools/analysis_tools/benchmark_revisions.py [--base HEAD] [--rounds 3] \\
        -- python tools/analysis_tools/benchmark_selfsup.py CONFIG --iters 2 ...

The base revision is exported with ``git archive REV | tar -x`` into a temporary
directory (no git state changes), then the command runs alternately with the base
tree and the working tree on ``PYTHONPATH`` -- base, work, base, work, ... for
``--rounds`` rounds -- so load changes on a shared machine hit both sides alike.

With ``--paths`` only the listed files differ between the two sides: the base tree
is a copy of the working tree's package (``--packages``) with those paths taken from
the base revision, so uncommitted work of others in the same checkout is on both
sides and only the change under test is measured.

By default every run starts in the working tree (``--cwd work``): scripts and configs
are the working tree's and only the imported ``mmdepthsem`` package differs, so a
benchmark script added after the base revision can still time the old code. With
``--cwd each`` the command runs inside each tree.

Protocol: the command prints a line ``BENCH_RESULT {json}`` (the last such line
counts). Its numeric fields, nested dicts flattened to ``a.b``, are the metrics
(lower is better: times); a string field ``package`` is checked to lie in the tree
the run was meant to import, so a run that silently imported the other tree fails
(``python -c`` and ``python -m`` put the current directory before ``PYTHONPATH``:
run a script file, or use ``--cwd each``).
The report gives each metric per round and the median of the per-round ratios
``work / base`` (< 1: the working tree is faster).
"""
import argparse
import json
import os
import os.path as osp
import shlex
import shutil
import statistics
import subprocess
import tempfile
from typing import Dict, List, Optional, Sequence

PREFIX = 'BENCH_RESULT '
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--base', default='HEAD', help='git revision to compare with')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--repo', default=REPO, help='git checkout (working tree)')
    parser.add_argument('--cwd', choices=('work', 'each'), default='work',
                        help='run every command in the working tree, or in each tree')
    parser.add_argument('--paths', nargs='+',
                        help='compare only these paths: the base tree is a copy of '
                        "the working tree's --packages with these paths taken from "
                        'the base revision (isolates a change from other '
                        'uncommitted work)')
    parser.add_argument('--packages', nargs='+', default=['mmdepthsem'],
                        help='directories copied from the working tree with --paths')
    parser.add_argument('--metrics', nargs='+',
                        help='metric names to report (default: all numeric fields)')
    parser.add_argument('--json', dest='json_out', help='also write the results here')
    parser.add_argument('command', nargs=argparse.REMAINDER,
                        help='benchmark command, after `--`')
    args = parser.parse_args(argv)
    if args.command and args.command[0] == '--':
        args.command = args.command[1:]
    if not args.command:
        parser.error('give the benchmark command after `--`')
    if args.paths and args.cwd == 'each':
        parser.error('--paths builds a package-only base tree: use --cwd work')
    if args.rounds < 1:
        parser.error('--rounds must be at least 1')
    return args


def export_revision(repo: str, rev: str, dest: str) -> str:
    """Extract ``rev``'s tree into ``dest`` with ``git archive | tar``; its full
    hash."""
    commit = subprocess.run(['git', '-C', repo, 'rev-parse', '--verify',
                             f'{rev}^{{commit}}'], check=True, capture_output=True,
                            text=True).stdout.strip()
    archive = subprocess.Popen(['git', '-C', repo, 'archive', commit],
                               stdout=subprocess.PIPE)
    subprocess.run(['tar', '-x', '-C', dest], stdin=archive.stdout, check=True)
    archive.stdout.close()
    if archive.wait() != 0:
        raise RuntimeError(f'git archive {rev} failed')
    return commit


def overlay_paths(repo: str, rev: str, dest: str, packages: Sequence[str],
                  paths: Sequence[str]) -> str:
    """Base tree of only ``paths``: copy the working tree's ``packages`` into
    ``dest``, then replace ``paths`` by their ``rev`` versions (removed where
    ``rev`` lacks them). Returns the full hash of ``rev``."""
    for package in packages:
        shutil.copytree(osp.join(repo, package), osp.join(dest, package),
                        ignore=shutil.ignore_patterns('__pycache__'))
    with tempfile.TemporaryDirectory(prefix='bench_rev_') as full:
        commit = export_revision(repo, rev, full)
        for path in paths:
            target, source = osp.join(dest, path), osp.join(full, path)
            if osp.isdir(target):
                shutil.rmtree(target)
            elif osp.exists(target):
                os.remove(target)
            if osp.isdir(source):
                shutil.copytree(source, target)
            elif osp.exists(source):
                shutil.copy2(source, target)
    return commit


def flatten(result: dict, prefix: str = '') -> Dict[str, float]:
    """Numeric leaves of a nested dict as ``{'a.b': value}`` (bools left out)."""
    flat = {}
    for key, value in result.items():
        name = f'{prefix}{key}'
        if isinstance(value, dict):
            flat.update(flatten(value, name + '.'))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            flat[name] = float(value)
    return flat


def parse_result(output: str) -> dict:
    """The JSON of the last ``BENCH_RESULT`` line of ``output``."""
    lines = [line for line in output.splitlines() if line.startswith(PREFIX)]
    if not lines:
        raise ValueError(f'no `{PREFIX.strip()}` line in the output:\n{output[-2000:]}')
    return json.loads(lines[-1][len(PREFIX):])


def run_once(command: List[str], tree: str, cwd: str) -> dict:
    """Run ``command`` with ``tree`` first on PYTHONPATH; its parsed result."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [tree] + [p for p in env.get('PYTHONPATH', '').split(os.pathsep) if p])
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f'{shlex.join(command)} failed in {tree} '
                           f'({proc.returncode}):\n{proc.stdout[-3000:]}\n'
                           f'{proc.stderr[-3000:]}')
    result = parse_result(proc.stdout)
    package = result.get('package')
    if isinstance(package, str) and osp.commonpath(
            [osp.realpath(package), osp.realpath(tree)]) != osp.realpath(tree):
        raise RuntimeError(f'the run meant for {tree} imported {package}')
    return result


def compare(base_runs: List[dict], work_runs: List[dict],
            metrics: Optional[Sequence[str]] = None) -> Dict[str, dict]:
    """Per-metric values per round and the median of the ``work / base`` ratios.

    Returns:
        ``{metric: dict(base=[...], work=[...], ratios=[...], median_ratio=r)}`` for
        the metrics present in every run (or the requested ones).
    """
    base = [flatten(r) for r in base_runs]
    work = [flatten(r) for r in work_runs]
    names = list(metrics) if metrics else [
        k for k in base[0] if all(k in run for run in base + work)]
    table = {}
    for name in names:
        missing = [i for i, run in enumerate(base + work) if name not in run]
        if missing:
            raise KeyError(f'metric {name} missing from some runs')
        b = [run[name] for run in base]
        w = [run[name] for run in work]
        ratios = [wi / bi if bi else float('nan') for bi, wi in zip(b, w)]
        table[name] = dict(base=b, work=w, ratios=ratios,
                           median_ratio=statistics.median(ratios))
    return table


def format_table(table: Dict[str, dict]) -> List[str]:
    """Printed report: per round ``base -> work (ratio)`` and the median ratio."""
    rounds = len(next(iter(table.values()))['ratios']) if table else 0
    width = max([len(n) for n in table] + [6])
    header = f'{"metric":<{width}}  ' + '  '.join(
        f'{"round " + str(i + 1) + " base/work":>26}' for i in range(rounds)) + \
        f'  {"median work/base":>16}'
    lines = [header, '-' * len(header)]
    for name, row in table.items():
        cells = '  '.join(f'{b:>11.1f} {w:>9.1f} ({r:4.2f})'
                          for b, w, r in zip(row['base'], row['work'], row['ratios']))
        lines.append(f'{name:<{width}}  {cells}  {row["median_ratio"]:>15.3f}x')
    lines.append('ratio: working tree / base (< 1: the working tree is faster)')
    return lines


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, dict]:
    args = parse_args(argv)
    repo = osp.abspath(args.repo)
    with tempfile.TemporaryDirectory(prefix='bench_base_') as base_tree:
        if args.paths:
            commit = overlay_paths(repo, args.base, base_tree, args.packages,
                                   args.paths)
            print(f'base: the working tree with {" ".join(args.paths)} from '
                  f'{args.base}')
        else:
            commit = export_revision(repo, args.base, base_tree)
        print(f'base {args.base} = {commit} (exported to {base_tree}); working tree '
              f'{repo}; {args.rounds} rounds, alternating base / work')
        print(f'command: {shlex.join(args.command)}', flush=True)
        base_runs, work_runs = [], []
        for i in range(args.rounds):
            for tree, runs in ((base_tree, base_runs), (repo, work_runs)):
                cwd = repo if args.cwd == 'work' else tree
                runs.append(run_once(args.command, tree, cwd))
            print(f'round {i + 1}/{args.rounds} done', flush=True)
    table = compare(base_runs, work_runs, args.metrics)
    print('\n'.join(format_table(table)))
    if args.json_out:
        with open(args.json_out, 'w') as f:
            json.dump(dict(base=commit, command=args.command, table=table), f,
                      indent=1)
    return table


if __name__ == '__main__':
    main()
