"""Write README.md from nbs/index.ipynb, offline (nbdev_readme needs quarto), and put settings.ini's repository address
in every place that names it: the Colab badges and links of nbs/index.ipynb and huggingtweets-demo.ipynb, and the
demo's Colab set-up cell, which installs from it.

Markdown cells are copied as they are; code cells not marked `#| hide` become fenced Python blocks, without their
`#|` directives. `python tools/readme.py --check` fails when anything is stale, and changes nothing.
"""
import json, re, sys
from configparser import ConfigParser
from pathlib import Path

root = Path(__file__).resolve().parent.parent

def settings()->dict:
    c = ConfigParser(delimiters=['='])
    c.read(root/'settings.ini', encoding='utf-8')
    return dict(c['DEFAULT'])

def repo_addresses(text:str, cfg:dict)->str:
    "`text` with every GitHub and Colab address of the project's repository made settings.ini's"
    m = re.fullmatch(r'https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?', cfg['git_url'])
    owner, name, branch = m[1], m[2], cfg.get('branch', 'main')
    text = re.sub(r'https://colab\.research\.google\.com/github/[\w.-]+/[\w.-]+/blob/[\w.-]+/huggingtweets-demo\.ipynb',
                  f'https://colab.research.google.com/github/{owner}/{name}/blob/{branch}/huggingtweets-demo.ipynb', text)
    return re.sub(r'git\+https://github\.com/[\w.-]+/[\w.-]+?(?:\.git)?(?=["\s@\'])', f'git+https://github.com/{owner}/{name}', text)

def render(cells)->str:
    out = []
    for c in cells:
        src = ''.join(c['source']).strip('\n')
        if c['cell_type'] == 'markdown': out.append(src)
        elif c['cell_type'] == 'code':
            lines = src.splitlines()
            if any(l.strip() in ('#| hide', '#|hide') for l in lines): continue
            code = '\n'.join(l for l in lines if not l.startswith('#|')).strip('\n')
            if code: out.append(f'```python\n{code}\n```')
    return '<!-- Generated from nbs/index.ipynb by tools/readme.py: edit the notebook, not this file. -->\n\n' + '\n\n'.join(out) + '\n'

def with_addresses(path:Path, cfg:dict)->tuple[str, str]:
    "The notebook's text now, and with settings.ini's addresses"
    text = path.read_text(encoding='utf-8')
    nb = json.loads(text)
    for c in nb['cells']:
        c['source'] = [repo_addresses(l, cfg) for l in (c['source'] if isinstance(c['source'], list) else [c['source']])]
    new = json.dumps(nb, indent=1, ensure_ascii=False) + '\n'
    return text, (new if json.loads(new) != json.loads(text) else text)

if __name__ == '__main__':
    cfg, check, stale = settings(), '--check' in sys.argv, []
    for nb in (root/'nbs'/'index.ipynb', root/'huggingtweets-demo.ipynb'):
        old, new = with_addresses(nb, cfg)
        if new != old:
            stale.append(nb.name)
            if not check: nb.write_text(new, encoding='utf-8')
    text, readme = render(json.loads((root/'nbs'/'index.ipynb').read_text(encoding='utf-8'))['cells']), root/'README.md'
    if not readme.exists() or readme.read_text(encoding='utf-8') != text:
        stale.append('README.md')
        if not check: readme.write_text(text, encoding='utf-8')
    if check and stale: sys.exit(f"Not in step with nbs/index.ipynb and settings.ini: {', '.join(stale)}; run `python tools/readme.py`.")
