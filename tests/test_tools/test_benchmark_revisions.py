"""benchmark_revisions.py: export of the base revision, alternation and ratios."""
import json
import subprocess
import sys

import pytest

from tests.conftest import load_tool

tool = load_tool('tools/analysis_tools/benchmark_revisions.py')

# Prints which tree it imported and a "time" that the tree defines.
BENCH = ('import json, os, speed; print("noise"); print("BENCH_RESULT " + json.dumps('
         'dict(iteration_ms=speed.MS, parts=dict(loss=speed.MS / 2, label="x"), '
         'package=os.path.dirname(os.path.abspath(speed.__file__)))))')


def _git(repo, *args):
    subprocess.run(['git', '-C', str(repo), '-c', 'user.email=t@t', '-c',
                    'user.name=t', *args], check=True, capture_output=True)


@pytest.fixture
def toy_repo(tmp_path):
    repo = tmp_path / 'repo'
    repo.mkdir()
    (repo / 'speed.py').write_text('MS = 200.0\n')
    _git(repo, 'init', '-q')
    _git(repo, 'add', 'speed.py')
    _git(repo, 'commit', '-q', '-m', 'base')
    (repo / 'speed.py').write_text('MS = 50.0\n')  # the uncommitted "fix"
    return repo


def test_alternates_and_reports_ratios(toy_repo, tmp_path, capsys):
    out = tmp_path / 'result.json'
    # a script outside both trees (`python -c` would import from the cwd first)
    script = tmp_path / 'bench.py'
    script.write_text(BENCH)
    table = tool.main(['--repo', str(toy_repo), '--rounds', '3', '--json', str(out),
                       '--', sys.executable, str(script)])
    assert set(table) == {'iteration_ms', 'parts.loss'}  # strings are not metrics
    row = table['iteration_ms']
    assert row['base'] == [200.0] * 3 and row['work'] == [50.0] * 3
    assert row['median_ratio'] == pytest.approx(0.25)
    assert table['parts.loss']['median_ratio'] == pytest.approx(0.25)
    text = capsys.readouterr().out
    assert 'round 3/3 done' in text and '0.250x' in text
    saved = json.loads(out.read_text())
    assert len(saved['base']) == 40 and saved['table']['iteration_ms']['ratios'] == [
        0.25] * 3
    # the base export changed nothing in the checkout
    assert (toy_repo / 'speed.py').read_text() == 'MS = 50.0\n'


def test_refuses_a_run_that_imported_the_other_tree(toy_repo, tmp_path):
    # `package` points at a fixed directory: the base run must be caught
    fixed = ('import json; print("BENCH_RESULT " + json.dumps(dict(t=1.0, '
             f'package={str(toy_repo)!r} + "/pkg")))')
    with pytest.raises(RuntimeError, match='imported'):
        tool.main(['--repo', str(toy_repo), '--rounds', '1', '--', sys.executable,
                   '-c', fixed])


def test_parsing():
    assert tool.parse_result('a\nBENCH_RESULT {"t": 1}\nBENCH_RESULT {"t": 2}\n') \
        == {'t': 2}
    with pytest.raises(ValueError, match='BENCH_RESULT'):
        tool.parse_result('no result here')
    assert tool.flatten({'a': {'b': 1, 'c': True}, 'd': 2.5, 'e': 's'}) == {
        'a.b': 1.0, 'd': 2.5}


def test_paths_compare_only_the_listed_files(tmp_path):
    repo = tmp_path / 'repo'
    (repo / 'pkg').mkdir(parents=True)
    (repo / 'pkg' / '__init__.py').write_text('')
    (repo / 'pkg' / 'mine.py').write_text('MS = 200.0\n')
    (repo / 'pkg' / 'theirs.py').write_text('MS = 10.0\n')
    _git(repo, 'init', '-q')
    _git(repo, 'add', 'pkg')
    _git(repo, 'commit', '-q', '-m', 'base')
    (repo / 'pkg' / 'mine.py').write_text('MS = 100.0\n')   # the change measured
    (repo / 'pkg' / 'theirs.py').write_text('MS = 1.0\n')   # someone else's edit
    script = tmp_path / 'bench.py'
    script.write_text('import json, os, pkg.mine as m, pkg.theirs as t; '
                      'print("BENCH_RESULT " + json.dumps(dict(mine=m.MS, '
                      'theirs=t.MS, package=os.path.dirname(m.__file__))))')
    table = tool.main(['--repo', str(repo), '--rounds', '1', '--packages', 'pkg',
                       '--paths', 'pkg/mine.py', '--', sys.executable, str(script)])
    assert table['mine']['base'] == [200.0] and table['mine']['work'] == [100.0]
    assert table['theirs']['base'] == table['theirs']['work'] == [1.0]
