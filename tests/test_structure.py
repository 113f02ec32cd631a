"The house: no import cycle anywhere in the package (lazy imports inside functions count too), one writer of the record, no globals that change."
import ast, re
from pathlib import Path
import pytest

PKG = Path(__file__).resolve().parents[1]/'huggingtweets'
MODULES = sorted(p.stem for p in PKG.glob('*.py') if not p.stem.startswith('_'))


def imports(name:str)->set[str]:
    "The package's modules that `name` imports, at its top or inside a function"
    out = set()
    for node in ast.walk(ast.parse((PKG/f'{name}.py').read_text(encoding='utf-8'))):
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ''
            if node.level == 1 and mod: out.add(mod.split('.')[0])
            elif node.level == 1: out.update(a.name for a in node.names if a.name in MODULES)
            elif mod.startswith('huggingtweets.'): out.add(mod.split('.')[1])
            elif mod == 'huggingtweets': out.update(a.name for a in node.names if a.name in MODULES)
        elif isinstance(node, ast.Import):
            out.update(a.name.split('.')[1] for a in node.names if a.name.startswith('huggingtweets.'))
    return out & set(MODULES) - {name}


def test_no_import_cycle():
    graph = {m: imports(m) for m in MODULES}
    state = {}
    def visit(m, path):
        if state.get(m) == 'done': return
        assert state.get(m) != 'open', 'import cycle: ' + ' -> '.join(path + [m])
        state[m] = 'open'
        for n in sorted(graph[m]): visit(n, path + [m])
        state[m] = 'done'
    for m in MODULES: visit(m, [])
    assert graph['core'] == set() and graph['files'] == {'core'} and graph['social'] == {'core'}  # the foundation stands alone


def test_the_pipeline_alone_writes_the_record():
    writers = [m for m in MODULES if re.search(r'\.save\(\s*(folder|tmp|f|out)\b', (PKG/f'{m}.py').read_text()) and 'ModelRecord' in (PKG/f'{m}.py').read_text()]
    assert writers == ['pipeline'], writers
    for m in MODULES:  # nobody else parses the record's file
        src = (PKG/f'{m}.py').read_text()
        if m not in ('record',): assert not re.search(r"huggingtweets\.json'\)?\.read_text|json\.loads\(.*RECORD", src), m


@pytest.mark.parametrize('name', MODULES)
def test_no_module_state_that_changes(name):
    "Module-level names are constants, functions and classes: no `global` statement, no mutable state set at import"
    tree = ast.parse((PKG/f'{name}.py').read_text(encoding='utf-8'))
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Global)], 'a global statement'
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name) and t.id != '__all__' and isinstance(node.value, (ast.List, ast.Set, ast.Dict)) and not t.id.isupper():
                    pytest.fail(f'{name}.{t.id} is a mutable module-level value')
