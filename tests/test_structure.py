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


def test_one_room_per_network():
    "Each network's reading and posting live in its own module, which leans only on the shared `social`; the bot's loop leans on them, never they on it"
    for net in ('bluesky', 'mastodon', 'xapi'): assert imports(net) == {'core', 'social'}, net
    assert {'bluesky', 'mastodon', 'xapi', 'social'} <= imports('bot') and imports('sources') >= {'bluesky', 'mastodon', 'xapi'}

def record_saves(src:str)->int:
    "How many calls in `src` save a record: `.save(...)` on a name bound to a `ModelRecord`/`LocalRecord` (or a parameter typed so), or on any `...record`"
    tree, bound = ast.parse(src), set()
    is_record = lambda node: bool(re.search(r'Record\b|_record\(', ast.unparse(node)))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.NamedExpr, ast.AnnAssign)) and node.value is not None and is_record(node.value):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            bound |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.arg) and node.annotation is not None and is_record(node.annotation): bound.add(node.arg)
    return sum(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == 'save'
               and ((isinstance(n.func.value, ast.Name) and n.func.value.id in bound) or re.search(r'(?i)record$', ast.unparse(n.func.value)) is not None)
               for n in ast.walk(tree))


def test_the_record_detector_sees_writers():
    assert record_saves('r = ModelRecord.load(f)\nr.save(f)') == 1 and record_saves('def f(x:LocalRecord): x.save(d)') == 1
    assert record_saves('self.state.run.record.save(folder)') == 1 and record_saves('img.save(p); c.stats.save(p)') == 0


def test_the_pipeline_alone_writes_the_record():
    writers = {m: n for m in MODULES if m != 'record' and (n := record_saves((PKG/f'{m}.py').read_text(encoding='utf-8')))}
    assert list(writers) == ['pipeline'], writers
    for m in MODULES:  # nobody else parses the record's files
        src = (PKG/f'{m}.py').read_text()
        if m not in ('record',): assert not re.search(r"huggingtweets(-local)?\.json'\)?\.read_text|json\.loads\(.*(RECORD|LOCAL)", src), m


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
