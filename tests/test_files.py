"""The data layer on what users actually bring: CSVs as spreadsheets and scrapers write them, text in any encoding,
binary files renamed, files too big to be one account, and X archives damaged in every way a download can be.
Each case reads back exactly, or is one `UserError` sentence; nothing is half-written."""
import codecs, csv, io, json, os, re, struct, sys, tempfile, time, tracemalloc, zipfile
from pathlib import Path
import pytest
import fastcore.test as fct
from hypothesis import given, settings, assume, example, HealthCheck, strategies as st
from huggingtweets import files
from huggingtweets.core import UserError
from huggingtweets.files import read_file, read_archive, iter_ytd, sniff_encoding, archive_root, archive_owner, TEXT_COLUMNS
from util import make_archive, sample_tweets, shared, tweet, ytd

def examples(n): return settings(max_examples=n, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

def write_csv(path, rows, encoding='utf-8', **kw):
    "Write `rows` with Python's csv writer, as any program that writes CSV does"
    with open(path, 'w', encoding=encoding, newline='') as f: csv.writer(f, **kw).writerows(rows)
    return path

def texts(acc): return [p.text for p in acc.posts]


# ---------------------------------------------------------------------------------------------------------------
# 1. CSV, as real per-account exports look

TROLL_HEADER = ['author_id', 'content', 'region', 'language', 'publish_date', 'harvested_date', 'following', 'followers', 'updates', 'post_type', 'retweet']
HARD_POSTS = ['Resale homes sales R up. As we learned, a healthy market puts "many pairs" of hands to work.',
              "'Tis the season, friends", "'quoted' at the start, then a comma", "'", 'ends with a stray quote \'',
              'She said ""hi"" twice', '"', '""', 'line one\nline two\n\nline four', 'a\r\nwindows\rnewline',
              'tab\tinside; and a semicolon', 'RT @someone: copied, with a comma', 'emoji 🤖🔥 and accents: déjà vu',
              '   leading and trailing spaces   ', '=1+2 (a spreadsheet formula)', 'x' * 5000]

def troll_rows(posts, handle='Crystal1Johnson'):
    rows = [TROLL_HEADER]
    for i, t in enumerate(posts):
        rows.append([handle, t, 'United States', 'English', f'2016-01-{i % 28 + 1:02d} 10:00:00', '2016-01-02 00:00:00', '4', '0', str(i), 'RETWEET' if i % 3 == 0 else '', '1' if i % 3 == 0 else '0'])
    return rows

def test_real_shaped_csv_reads_back_exactly(tmp_path):
    p = write_csv(tmp_path/'Crystal1Johnson.csv', troll_rows(HARD_POSTS))
    a = read_file(p)
    fct.test_eq((a.handle, a.source), ('Crystal1Johnson', 'file'))
    fct.test_eq(texts(a), HARD_POSTS)
    fct.test_eq([p.repost for p in a.posts], [i % 3 == 0 or t.startswith('RT @') for i, t in enumerate(HARD_POSTS)])
    fct.test_eq([p.date for p in a.posts][:2], ['2016-01-01 10:00:00', '2016-01-02 10:00:00'])

@pytest.mark.parametrize('quoting', [csv.QUOTE_MINIMAL, csv.QUOTE_ALL])
@pytest.mark.parametrize('delimiter', [',', ';', '\t'])
def test_csv_dialects_that_writers_use(tmp_path, quoting, delimiter):
    p = write_csv(tmp_path/'posts.csv', troll_rows(HARD_POSTS), quoting=quoting, delimiter=delimiter)
    fct.test_eq(texts(read_file(p)), HARD_POSTS)

def test_csv_column_names_in_any_case_and_empty_rows(tmp_path):
    p = write_csv(tmp_path/'a.csv', [[' Date ', 'Text', 'IS_RETWEET'], ['2024', 'first post, really', 'TRUE'], ['2024', '', '0'], [], ['2024', 'second', 'no']])
    fct.test_eq([(p.text, p.repost) for p in read_file(p).posts], [('first post, really', True), ('second', False)])

def test_csv_author_column(tmp_path):
    "One author names the account; several (a file of many accounts) leave the file's name"
    write_csv(tmp_path/'one.csv', [['author', 'text'], ['@jill', 'a'], ['@jill', 'b']])
    write_csv(tmp_path/'many.csv', [['author', 'text'], ['jill', 'a'], ['jack', 'b']])
    fct.test_eq([read_file(tmp_path/f).handle for f in ('one.csv', 'many.csv')], ['jill', 'many'])

def test_shared_troll_csvs_match_python_csv():
    "Every real troll CSV: as many posts as Python's csv finds non-empty `content` rows, the same texts and the same reposts"
    folder = shared('data', 'accounts', 'troll')
    paths = sorted(folder.glob('*.csv'))
    assert len(paths) >= 5
    for p in paths:
        with open(p, encoding='utf-8', newline='') as f: rows = [r for r in csv.DictReader(f) if r['content']]
        a = read_file(p)
        fct.test_eq(len(a.posts), len(rows))
        fct.test_eq(texts(a), [r['content'] for r in rows])
        fct.test_eq(sum(p.repost for p in a.posts), sum(r['retweet'] == '1' or r['content'].startswith('RT @') for r in rows))
        fct.test_eq(a.handle, rows[0]['author_id'])


def header_and(lines): return 'text,retweet\n' + ''.join(l + '\n' for l in lines)

@pytest.mark.parametrize('body, line, says', [
    (header_and(['fine,0', '"never closed, and', 'more,0']), 3, 'never closed'),
    (header_and(['fine,0', '"closed" then more,0', 'ok,0']), 3, 'followed by more text'),
    (header_and(['fine,0', 'a,0', 'one, two, three,0']), 4, 'has 4 fields where the header has 2'),
    # a post over three lines first: the line named is where the broken row starts, not the row's number
    (header_and(['"a post\nover three\nlines",0', 'ok,1', '"bad" x,0']), 6, 'followed by more text'),
    ('"text,retweet\nfine,0\n', 1, 'never closed'),
])
def test_broken_csv_names_the_line(tmp_path, body, line, says):
    p = tmp_path/'broken.csv'
    p.write_text(body, encoding='utf-8', newline='')
    with pytest.raises(UserError, match=rf'broken\.csv, line {line}, .*{says}') as e: read_file(p)
    assert '\n' not in str(e.value) and str(e.value).endswith('.')

def test_binary_junk_at_the_start_is_not_text(tmp_path):
    p = tmp_path/'junk.csv'
    p.write_bytes(b'text,retweet\n' + bytes(range(256)) * 8 + b'\n')
    with pytest.raises(UserError, match='junk.csv is not a text file'): read_file(p)

@pytest.mark.parametrize('ext', ['.csv', '.txt'])
def test_binary_junk_deep_in_a_file_names_the_line(tmp_path, ext):
    p = tmp_path/f'junk{ext}'
    n = 5000
    head = 'text,retweet\n' + 'a fine post,0\n' * n if ext == '.csv' else 'a fine post\n' * n
    p.write_bytes(head.encode() + b'\x00\x01\x02binary\x00\x00\x00' + bytes(range(32)) + b',0\n')
    with pytest.raises(UserError, match=rf'junk\{ext}, line {n + 2 if ext == ".csv" else n + 1}'): read_file(p)

def test_csv_post_too_long_says_so(tmp_path):
    p = tmp_path/'long.csv'
    p.write_text('text\n' + 'a' * 150_000 + '\n', encoding='utf-8')
    with pytest.raises(UserError, match='long.csv, line 2, holds a post of 150,000 characters'): read_file(p)


def test_whitespace_only_texts(tmp_path):
    "In a table a field is a post unless empty (its spaces kept, cleaning judges it); in a .txt lines are stripped and blank ones skipped"
    write_csv(tmp_path/'a.csv', [['text'], ['   '], [''], ['\t x \t']])
    fct.test_eq(texts(read_file(tmp_path/'a.csv')), ['   ', '\t x \t'])
    (tmp_path/'a.txt').write_text('   \n\n\t x \t\n', encoding='utf-8')
    fct.test_eq(texts(read_file(tmp_path/'a.txt')), ['x'])


# ---------------------------------------------------------------------------------------------------------------
# 2. Properties

# Any text a person types: every script, emoji, combining marks, and the characters that break CSVs. Left out: C0/C1 controls
# other than tab/newlines (a file with them is refused as binary, on purpose), lone surrogates (not encodable) and U+FFFD
# (counted as decoding damage).
CHARS = st.characters(exclude_categories=('Cs', 'Cc'), exclude_characters='\ufffd') | st.sampled_from(',;\t"\'\n\r \u2028')
POST = st.text(CHARS, max_size=30)
POST_CC = st.lists(st.text(CHARS, max_size=8) | st.sampled_from(['\x00', '\x07', '\x1b', '\x1b[31m', '\x1b]0;title\x07', '\x7f', '\x85', '\x9b']), max_size=8).map(''.join) # a JSON text carries controls as escapes: read as they are, cleaning takes them out (test_clean)

@examples(80)
@given(posts=st.lists(st.tuples(POST, st.booleans()), max_size=12), delimiter=st.sampled_from([',', ';', '\t']),
       quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]), encoding=st.sampled_from(['utf-8', 'utf-8-sig', 'utf-16']),
       ext=st.sampled_from(['.csv', '.tsv']))
def test_any_csv_reads_back_exactly(posts, delimiter, quoting, encoding, ext):
    "Whatever a CSV writer wrote comes back: every non-empty field is a post, exactly (spaces, quotes and newlines kept)"
    if ext == '.tsv': delimiter = '\t'
    rows = [['id', 'text', 'retweet']] + [[i, t, int(rt)] for i, (t, rt) in enumerate(posts)]
    with tempfile.TemporaryDirectory() as d:
        a = read_file(write_csv(Path(d)/f'posts{ext}', rows, encoding, delimiter=delimiter, quoting=quoting))
    fct.test_eq([(p.text, p.repost, p.id) for p in a.posts],
                [(t, rt or t.startswith('RT @'), str(i)) for i, (t, rt) in enumerate(posts) if t != ''])

SUFFIXES = st.sampled_from(['.txt', '.csv', '.tsv', '.jsonl', '.json'])
PIECES = st.sampled_from([b'text', b'retweet', b',', b';', b'\t', b'"', b"'", b'\n', b'\r\n', b'{', b'}', b'[', b']', b':', b'"text"', b'1',
                          b'null', b'RT @x ', b'\x00', b'\xff', b'\xfe', b'\xef\xbb\xbf', b'\xc3', b'\xe2\x82', 'é🤖'.encode(), b'  ', b'post'])
JUNK = st.one_of(st.binary(max_size=3000), st.lists(PIECES, max_size=60).map(b''.join),
                 st.tuples(st.sampled_from([b'', codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE]),
                           st.lists(PIECES, max_size=60).map(b''.join)).map(b''.join))

@examples(300)
@given(data=JUNK, ext=SUFFIXES)
def test_any_bytes_read_or_refuse_clearly(data, ext):
    "Any bytes under any suffix: posts, or a UserError, never another exception"
    with tempfile.TemporaryDirectory() as d:
        p = Path(d)/f'posts{ext}'
        p.write_bytes(data)
        try: a = read_file(p)
        except UserError as e: assert str(e) and '\n' not in str(e)
        else: assert all(isinstance(q.text, str) and q.text for q in a.posts)

ENCODINGS = ['utf-8', 'utf-8-sig', 'utf-16', 'utf-32', 'cp1252']
CP1252 = [c for c in (bytes([b]).decode('cp1252', errors='replace') for b in range(0x20, 0x100)) if c not in '\x7f\ufffd']
# Western text: ASCII and Latin-1 letters and signs. Without them, bytes C0-FF followed by 80-BF (é then ©) would also be valid
# UTF-8, and any reader must read valid UTF-8 as UTF-8: that ambiguity is inherent, so it is left out.
WESTERN = [c for c in CP1252 if ord(c) < 0x80 or 0xC0 <= ord(c) <= 0xFF]

@st.composite
def lines_in(draw):
    enc = draw(st.sampled_from(ENCODINGS))
    alphabet = st.sampled_from(WESTERN + [' ', '\t']) if enc == 'cp1252' else CHARS.filter(lambda c: c not in '\r\n\ufeff')
    lines = draw(st.lists(st.text(alphabet, max_size=25), max_size=12))
    return enc, lines, draw(st.sampled_from(['\n', '\r\n', '\r']))

@examples(100)
@given(case=lines_in())
def test_any_txt_in_any_encoding(case):
    "A .txt in UTF-8 (with or without BOM), UTF-16, UTF-32 or Windows-1252 reads back: one post a line, stripped, blank lines skipped"
    enc, lines, nl = case
    head = lines[0] if lines else ''
    assume(not ('\t' in head and any(c.strip().lower() in TEXT_COLUMNS for c in head.split('\t')))) # a header: Excel's "Unicode text" table
    with tempfile.TemporaryDirectory() as d:
        p = Path(d)/'posts.txt'
        p.write_bytes(nl.join(lines).encode(enc))
        got = texts(read_file(p))
    fct.test_eq(got, [l.strip() for l in lines if l.strip()])

@examples(60)
@given(items=st.lists(st.fixed_dictionaries({'tweet': st.fixed_dictionaries({'id_str': st.from_regex(r'\d{1,19}', fullmatch=True), 'full_text': POST | POST_CC})}), max_size=8),
       chunk=st.integers(1, 64), indent=st.sampled_from([None, 2]), part=st.integers(0, 3), bom=st.booleans())
def test_iter_ytd_streams_any_archive_file(items, chunk, indent, part, bom):
    "An archive data file, read a few bytes at a time (multi-byte characters split across reads), gives its items exactly"
    raw = (codecs.BOM_UTF8 if bom else b'') + f'window.YTD.tweets.part{part} = {json.dumps(items, indent=indent, ensure_ascii=False)}'.encode()
    fct.test_eq(list(iter_ytd(io.BytesIO(raw), 'tweets.js', chunk=chunk)), items)


# ---------------------------------------------------------------------------------------------------------------
# 3. Encodings

def test_excel_unicode_text_is_a_table(tmp_path):
    "Excel's 'Unicode text': UTF-16 with BOM, tab-separated, a header, saved as .txt"
    rows = [['Author', 'Text', 'Retweet'], ['jo', 'first, with a comma', '0'], ['jo', 'second "quoted"\nover two lines', '1'], ['jo', 'çà 🤖', '0']]
    p = write_csv(tmp_path/'Sheet1.txt', rows, 'utf-16', delimiter='\t')
    assert p.read_bytes()[:2] == codecs.BOM_UTF16_LE
    a = read_file(p)
    fct.test_eq((a.handle, [(q.text, q.repost) for q in a.posts]), ('jo', [(r[1], r[2] == '1') for r in rows[1:]]))

@pytest.mark.parametrize('enc', ['utf-16', 'utf-16-le', 'utf-16-be', 'utf-8-sig', 'cp1252', 'utf-32'])
def test_csv_in_other_encodings(tmp_path, enc):
    rows = [['text', 'retweet'], ['café, crème; brûlée', '0'], ['naïve "quote"', '1']]
    p = write_csv(tmp_path/'a.csv', rows, enc)
    fct.test_eq([(q.text, q.repost) for q in read_file(p).posts], [('café, crème; brûlée', False), ('naïve "quote"', True)])

def test_bomless_utf16_le_txt(tmp_path):
    p = tmp_path/'a.txt'
    p.write_bytes('first post here\r\nsecond one, déjà\r\n'.encode('utf-16-le'))
    fct.test_eq(sniff_encoding(p), 'utf-16-le')
    fct.test_eq(texts(read_file(p)), ['first post here', 'second one, déjà'])

def binary_files():
    png = b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR' + bytes(range(256)) * 4
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, 'w', zipfile.ZIP_DEFLATED) as z: z.writestr('data/tweets.js', ytd('tweets', [tweet(i, f'post {i}') for i in range(300)]))
    return {'png': png, 'zip': zbuf.getvalue(), 'random': os.urandom(5000), 'elf': Path(sys.executable).read_bytes()[:20000]}

@pytest.mark.parametrize('kind', ['png', 'zip', 'random', 'elf'])
@pytest.mark.parametrize('ext', ['.txt', '.csv', '.jsonl', '.json'])
def test_binary_file_is_refused(tmp_path, kind, ext):
    p = tmp_path/f'posts{ext}'
    p.write_bytes(binary_files()[kind])
    with pytest.raises(UserError, match=rf'posts\{ext} is not a text file'): read_file(p)

def test_big_binary_file_is_refused_fast(tmp_path):
    p = tmp_path/'photo.txt'
    with open(p, 'wb') as f: f.write(b'\x89PNG\r\n\x1a\n' + os.urandom(1 << 16)); f.truncate(256 << 20)
    t0 = time.perf_counter()
    with pytest.raises(UserError, match='is not a text file'): read_file(p)
    assert time.perf_counter() - t0 < 0.5

def test_big_nul_file_is_refused_without_reading_it_all(tmp_path, monkeypatch):
    p = tmp_path/'disk.txt'
    with open(p, 'wb') as f: f.truncate(64 << 20) # sparse: costs no disk
    read = []
    class Counted(io.FileIO):
        def read(self, n=-1): b = super().read(n); read.append(len(b)); return b
        def readinto(self, b): k = super().readinto(b); read.append(k or 0); return k
    def counted_open(file, mode='r', **kw): # what files.open does, counting the bytes it reads
        f = io.BufferedReader(Counted(file, 'rb'))
        return f if 'b' in mode else io.TextIOWrapper(f, **kw)
    monkeypatch.setattr(files, 'open', counted_open, raising=False)
    with pytest.raises(UserError, match='is not a text file'): read_file(p)
    assert sum(read) < 4 << 20, f'read {sum(read) / 2**20:.0f} MiB of 64 MiB'

def test_utf8_cut_short_keeps_its_other_posts(tmp_path):
    p = tmp_path/'cut.txt'
    p.write_bytes('café ☕ first\nnaïve second\nlast 🎉'.encode()[:-2])
    fct.test_eq(texts(read_file(p))[:2], ['café ☕ first', 'naïve second'])


# ---------------------------------------------------------------------------------------------------------------
# 4. Sizes

def test_too_many_posts(tmp_path, monkeypatch):
    monkeypatch.setattr(files, 'MAX_POSTS', 50)
    (tmp_path/'ok.txt').write_text('a post\n' * 50, encoding='utf-8')
    fct.test_eq(len(read_file(tmp_path/'ok.txt').posts), 50)
    (tmp_path/'big.txt').write_text('a post\n' * 51, encoding='utf-8')
    write_csv(tmp_path/'big.csv', [['text']] + [['a post']] * 51)
    (tmp_path/'big.jsonl').write_text('{"text": "a post"}\n' * 51, encoding='utf-8')
    z = make_archive(tmp_path/'big.zip', sample_tweets(51))
    for p in ('big.txt', 'big.csv', 'big.jsonl'):
        with pytest.raises(UserError, match=rf'{re.escape(p)} holds more than 50 posts'): read_file(tmp_path/p)
    with pytest.raises(UserError, match='big.zip holds more than 50 posts'): read_archive(z)

def test_post_too_long(tmp_path, monkeypatch):
    monkeypatch.setattr(files, 'MAX_POST_CHARS', 1000)
    (tmp_path/'a.txt').write_text('short\n' + 'x' * 999 + '\n' + 'y' * 1001 + '\n', encoding='utf-8')
    with pytest.raises(UserError, match=r'a.txt, line 3, is 1,00\d characters long'): read_file(tmp_path/'a.txt')
    write_csv(tmp_path/'a.csv', [['text'], ['short'], ['y' * 1001]])
    with pytest.raises(UserError, match=r'a.csv, line 3, holds a post of 1,001 characters'): read_file(tmp_path/'a.csv')

@pytest.mark.parametrize('ext', ['.jsonl', '.json'])
def test_json_post_too_long(tmp_path, monkeypatch, ext):
    monkeypatch.setattr(files, 'MAX_POST_CHARS', 1000)
    rows = [{'text': 'short'}, {'text': 'y' * 1001}]
    (tmp_path/f'a{ext}').write_text('\n'.join(map(json.dumps, rows)) if ext == '.jsonl' else json.dumps(rows), encoding='utf-8')
    with pytest.raises(UserError, match='1,001 characters'): read_file(tmp_path/f'a{ext}')

def test_reading_a_big_txt_streams(tmp_path):
    "A ~50 MB .txt: reading it allocates little beyond the posts it returns (no copy of the whole file)"
    p = tmp_path/'big.txt'
    line = 'Thinking about coffee again today, day {i} of writing things down, with some more words to be real ✓ ' * 5
    with open(p, 'w', encoding='utf-8') as f:
        for i in range(100_000): f.write(line.format(i=i) + '\n')
    assert p.stat().st_size > 50e6
    tracemalloc.start()
    try:
        a = read_file(p)
        kept, peak = tracemalloc.get_traced_memory()
    finally: tracemalloc.stop()
    p.unlink()
    fct.test_eq(len(a.posts), 100_000)
    assert peak - kept < 16e6, f'reading took {(peak - kept) / 1e6:.0f} MB beyond its result'


# ---------------------------------------------------------------------------------------------------------------
# 5. Archives

def member_data_offset(z:Path, name:str)->tuple[int, int]:
    "Where the packed bytes of a zip member start, and how many there are"
    with zipfile.ZipFile(z) as zf: i = zf.getinfo(name)
    raw = z.read_bytes()
    n, m = struct.unpack('<HH', raw[i.header_offset + 26:i.header_offset + 30])
    return i.header_offset + 30 + n + m, i.compress_size

def no_cache_left(d:Path): return not d.exists() or not [p for p in d.rglob('*') if p.is_file()]

@pytest.mark.parametrize('method', [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_archive_member_fails_its_crc(tmp_path, method):
    z = tmp_path/'a.zip'
    with zipfile.ZipFile(z, 'w', method) as zf:
        zf.writestr('data/tweets.js', ytd('tweets', [tweet(i, f'post number {i}, about things') for i in range(300)]))
        zf.writestr('data/account.js', ytd('account', [{'account': {'username': 'jack'}}]))
    start, size = member_data_offset(z, 'data/tweets.js')
    b = bytearray(z.read_bytes()); b[start + size // 2] ^= 0x55; z.write_bytes(bytes(b))
    from huggingtweets.sources import fetch
    with pytest.raises(UserError, match=r'data/tweets.js in a.zip is damaged .*download the archive again'): fetch(f'archive:{z}', tmp_path/'data')
    assert no_cache_left(tmp_path/'data')

def test_encrypted_archive(tmp_path):
    z = make_archive(tmp_path/'a.zip', sample_tweets(20))
    b = bytearray(z.read_bytes())
    for sig, flag_at in ((b'PK\x03\x04', 6), (b'PK\x01\x02', 8)): # the general-purpose flag of local and central headers
        i = b.find(sig)
        while i >= 0: b[i + flag_at] |= 1; i = b.find(sig, i + 4)
    z.write_bytes(bytes(b))
    with pytest.raises(UserError, match='a.zip is encrypted: unzip it with its password'): read_archive(z)

@pytest.mark.parametrize('keep', [0.5, 0.98, 40])
def test_truncated_archive(tmp_path, keep):
    z = make_archive(tmp_path/'a.zip', sample_tweets(200))
    raw = z.read_bytes()
    z.write_bytes(raw[:int(len(raw) * keep) if keep < 1 else keep])
    with pytest.raises(UserError, match='a.zip is not a zip file \\(or is cut short\\)'): read_archive(z)

def test_zip_bomb_by_its_header(tmp_path):
    "A member whose header claims more than MAX_INFLATED is refused before a byte is inflated"
    z = make_archive(tmp_path/'a.zip', sample_tweets(20))
    b = bytearray(z.read_bytes())
    c = b.find(b'PK\x01\x02')
    while c >= 0:
        if b[c + 46:c + 46 + struct.unpack('<H', b[c + 28:c + 30])[0]] == b'data/tweets.js': b[c + 24:c + 28] = struct.pack('<I', 0xFFFFFF00)
        c = b.find(b'PK\x01\x02', c + 4)
    z.write_bytes(bytes(b))
    with pytest.raises(UserError, match=r'data/tweets.js in a.zip would inflate to 4.0 GiB'): read_archive(z)

def test_zip_bomb_by_its_ratio(tmp_path, monkeypatch):
    "A real member past 64 MiB that inflates over MAX_RATIO times its packed size"
    z = tmp_path/'a.zip'
    with zipfile.ZipFile(z, 'w', zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open('data/tweets.js', 'w') as f:
            f.write(b'window.YTD.tweets.part0 = [ ')
            block = b' ' * (1 << 20)
            for _ in range(65): f.write(block)
            f.write(b']')
    with pytest.raises(UserError, match=r'data/tweets.js in a.zip would inflate to 0.1 GiB from 0.\d MiB'): read_archive(z)
    monkeypatch.setattr(files, 'MAX_INFLATED', 1000) # and the absolute limit, on a small archive
    with pytest.raises(UserError, match=r'would inflate to'): read_archive(make_archive(tmp_path/'b.zip', sample_tweets(50)))

@pytest.mark.parametrize('js, says', [
    ('window.YTD.tweets.part0 = [ {"tweet": {"full_text": "a"}}, {"tweet": } ]', 'holds malformed JSON'),
    ('window.YTD.tweets.part0 = [ {"tweet": {"full_text": "a"}}, {"tweet": {"full_te', 'holds malformed JSON'),
    ('window.YTD.tweets.part0 = [ {"tweet": {"full_text": "a"}}, ', r'is cut short \(no closing `]`\)'),
    ('window.YTD.tweets.part0 = [', r'is cut short'),
    ('{"tweet": {"full_text": "a"}}', 'is not an X archive data file'),
    ('window.YTD.tweets.part0 = {"tweet": 1}', 'is not an X archive data file'),
    ('<html>404 not found</html>', 'is not an X archive data file'),
])
def test_damaged_tweets_js(tmp_path, js, says):
    z = tmp_path/'a.zip'
    with zipfile.ZipFile(z, 'w') as zf: zf.writestr('data/tweets.js', js)
    with pytest.raises(UserError, match=rf'data/tweets.js {says}'): read_archive(z)
    (tmp_path/'d/data').mkdir(parents=True); (tmp_path/'d/data/tweets.js').write_text(js, encoding='utf-8')
    with pytest.raises(UserError, match=rf'data/tweets.js {says}'): read_archive(tmp_path/'d')

@pytest.mark.parametrize('name', ['posts.json', 'posts.jsonl', 'data/tweets.js'])
def test_deeply_nested_json(tmp_path, name):
    p = tmp_path/name
    p.parent.mkdir(exist_ok=True)
    p.write_text(('window.YTD.tweets.part0 = ' if name.endswith('.js') else '') + '[' * 100_000, encoding='utf-8')
    with pytest.raises(UserError): read_archive(tmp_path) if name.endswith('.js') else read_file(p)

def test_huge_single_line_archive_in_small_chunks(tmp_path):
    "A big account's tweets.js on one line (no indent), read 999 bytes at a time: every tweet, in order"
    items = [tweet(i, f'tweet {i}: ' + 'é🤖, "q" \\ ' * (i % 7)) for i in range(20_000)]
    raw = ('window.YTD.tweets.part0 = ' + json.dumps(items, ensure_ascii=False, separators=(',', ':'))).encode()
    assert raw.count(b'\n') == 0 and len(raw) > 2e6
    got = list(iter_ytd(io.BytesIO(raw), 'tweets.js', chunk=999))
    fct.test_eq(got, items)

class Counting(io.BytesIO):
    "A stream that counts the bytes read from it"
    n = 0
    def read(self, size=-1):
        b = super().read(size); self.n += len(b); return b

def test_damage_early_in_a_big_tweets_js_is_reported_early():
    body = ',\n'.join(json.dumps(tweet(i, 'x' * 300)) for i in range(80_000))
    f = Counting(('window.YTD.tweets.part0 = [ {"tweet": {"full_text": "a"}}, {"tweet": ], ' + body + ']').encode())
    with pytest.raises(UserError, match='malformed JSON'): list(iter_ytd(f, 'tweets.js', chunk=1 << 20))
    assert f.n < 16 << 20, f'read {f.n / 2**20:.0f} MiB of {len(f.getvalue()) / 2**20:.0f} MiB before saying so'

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(['tweet', 'full_text', 'text', 'id_str', 'id', 'retweeted', 'created_at']) | st.text(max_size=3), c, max_size=4),
                    max_leaves=12)

@examples(150)
@example(items=[{'tweet': []}])
@given(items=st.lists(JSON, max_size=6))
def test_archive_items_of_any_shape(items):
    "Whatever JSON an archive's tweets.js holds: its posts, or a UserError, never another exception"
    with tempfile.TemporaryDirectory() as d:
        (Path(d)/'data').mkdir()
        (Path(d)/'data'/'tweets.js').write_text(ytd('tweets', items), encoding='utf-8')
        try: a = read_archive(d)
        except UserError: return
    assert all(isinstance(p.text, str) and isinstance(p.id, str) and isinstance(p.date, str) for p in a.posts)

def test_odd_items_in_tweets_js_are_skipped(tmp_path):
    z = tmp_path/'a.zip'
    with zipfile.ZipFile(z, 'w') as zf:
        zf.writestr('data/tweets.js', 'window.YTD.tweets.part0 = [1, "x", null, {"tweet": {"full_text": 5}}, {"tweet": {"full_text": "kept", "id_str": "9"}}]')
    fct.test_eq([(p.text, p.id) for p in read_archive(z).posts], [('kept', '9')])

def test_odd_account_js(tmp_path):
    z = tmp_path/'a.zip'
    with zipfile.ZipFile(z, 'w') as zf:
        zf.writestr('data/tweets.js', ytd('tweets', [tweet(1, 'one two three')]))
        zf.writestr('data/account.js', 'window.YTD.account.part0 = [{"account": "x"}]')
    fct.test_eq(read_archive(z).handle, 'a')


def archive_forms(tmp_path):
    "The same archive given every way: (spec path, what it is)"
    posts = sample_tweets(40)
    (tmp_path/'unpacked').mkdir(); (tmp_path/'parts').mkdir()
    d = make_archive(tmp_path/'unpacked', posts, zipped=False)
    return posts, {
        'folder': d, 'data folder': d/'data', 'tweets.js': d/'data'/'tweets.js',
        'zip': make_archive(tmp_path/'plain.zip', posts),
        'zip with a top folder': make_archive(tmp_path/'top.zip', posts, top='twitter-2024-01-01-abc/'),
        'tweet.js (2020)': make_archive(tmp_path/'old.zip', posts, tweet_file='tweet'),
        'tweets-part1.js': make_archive(tmp_path/'parts.zip', posts, parts=3),
        'unpacked parts': make_archive(tmp_path/'parts', posts, parts=3, zipped=False)/'data',
    }

def test_archive_forms(tmp_path):
    posts, forms = archive_forms(tmp_path)
    for what, p in forms.items():
        a = read_archive(p)
        fct.test_eq((what, a.handle, a.user_name, a.source), (what, 'jack', 'Jack', 'archive'))
        got = sorted(texts(a)) if 'part' in what else texts(a) # parts hold every third tweet each
        fct.test_eq(got, sorted(posts) if 'part' in what else posts)
        fct.test_eq(archive_owner(p), ('jack', 'Jack'))
    for what in ('data folder', 'tweets.js'): fct.test_eq(archive_root(forms[what]), archive_root(forms['folder']))

def test_parts_are_read_in_order(tmp_path):
    make_archive(tmp_path, [f'tweet {i}' for i in range(12)], parts=12, zipped=False)
    names = sorted(p.name for p in (tmp_path/'data').glob('tweets*.js'))
    assert names.index('tweets-part10.js') < names.index('tweets-part2.js') # as text; the parts are numbered
    fct.test_eq([int(t.split()[1]) for t in texts(read_archive(tmp_path))], list(range(12)))

def test_missing_and_not_archives(tmp_path):
    with pytest.raises(UserError, match='No archive at'): read_archive(tmp_path/'nope.zip')
    (tmp_path/'x.zip').write_text('not a zip', encoding='utf-8')
    with pytest.raises(UserError, match='x.zip is not a zip file'): read_archive(tmp_path/'x.zip')
    with zipfile.ZipFile(tmp_path/'y.zip', 'w') as zf: zf.writestr('data/like.js', 'window.YTD.like.part0 = []')
    with pytest.raises(UserError, match='y.zip has no data/tweets.js'): read_archive(tmp_path/'y.zip')


# ---------------------------------------------------------------------------------------------------------------
# Real archives: the original's counts

@pytest.mark.parametrize('name, downloaded, retweets', [('andreruffert_2022-11', 1986, 643), ('alrocar_2024-01', 820, 9),
                                                        ('LumenInferius_2020-04_oldname', 22, 0)])
def test_real_archives(name, downloaded, retweets):
    acc = read_archive(shared('data', 'archives', name))
    fct.test_eq((len(acc.posts), sum(p.repost for p in acc.posts)), (downloaded, retweets))
    assert acc.handle and acc.user_name

def test_real_archive_zipped(tmp_path):
    src = shared('data', 'archives', 'andreruffert_2022-11')
    z = tmp_path/'archive.zip'
    with zipfile.ZipFile(z, 'w', zipfile.ZIP_DEFLATED) as zf:
        for f in src.rglob('*'):
            if f.is_file(): zf.write(f, f.relative_to(src))
    fct.test_eq(read_archive(z).posts, read_archive(src).posts)

def test_real_troll_csv():
    acc = read_file(shared('data', 'accounts', 'troll', 'KathieMrr.csv'))
    assert len(acc.posts) > 1000 and any(p.repost for p in acc.posts)


# ---------------------------------------------------------------------------------------------------------------
# Hostile inputs, second round (issue 20)

def test_utf8_with_a_stray_cp1252_byte_is_refused(tmp_path):
    "One Windows-1252 byte in a UTF-8 file: not the whole file decoded as Windows-1252 (every é garbled), but a sentence naming the byte and line"
    body = ''.join(f'café crème number {i}, déjà vu\n' for i in range(50)).encode() + b'one caf\xe9 from a spreadsheet\n' + 'naïve\n'.encode()
    for ext in ('.txt', '.csv', '.jsonl'):
        p = tmp_path/f'mixed{ext}'
        p.write_bytes((b'text\n' if ext == '.csv' else b'') + body if ext != '.jsonl' else b''.join(json.dumps({'text': l}, ensure_ascii=False).encode() + b'\n' for l in ['café'] * 3) + b'{"text": "caf\xe9"}\n')
        with pytest.raises(UserError, match=r'is UTF-8 but for byte [\d,]+ \(line (51|52|4)\), which is not: it mixes encodings'): read_file(p)
    (tmp_path/'legacy.txt').write_bytes('café crème, déjà vu\nnaïve\n'.encode('cp1252')) # no UTF-8 at all: a legacy file
    fct.test_eq(texts(read_file(tmp_path/'legacy.txt')), ['café crème, déjà vu', 'naïve'])

def test_other_scripts_in_legacy_encodings(tmp_path):
    "A Cyrillic or Greek file saved in its Windows code page is read in it (charset-normalizer), not as Windows-1252"
    for enc, lines in [('cp1251', ['Привет, как дела? Это тест моего текста на русском языке.', 'Сегодня хорошая погода и я пишу посты.']),
                       ('cp1253', ['Γειά σου κόσμε, τι κάνεις σήμερα; Καλημέρα σε όλους τους φίλους.', 'Σήμερα είναι μια όμορφη μέρα για περίπατο.'])]:
        p = tmp_path/f'{enc}.txt'
        p.write_bytes('\n'.join(lines).encode(enc))
        fct.test_eq(texts(read_file(p)), lines)

def test_zip_bomb_spread_over_many_members(tmp_path):
    "Many tweet files, each under the one-member check, that together inflate far past their packed size: refused from the headers, before reading"
    z = tmp_path/'bomb.zip'
    with zipfile.ZipFile(z, 'w', zipfile.ZIP_DEFLATED) as zf:
        for k in range(40): zf.writestr(f'data/tweets-part{k}.js', f'window.YTD.tweets.part{k} = [' + ' ' * (3 << 20) + ']')
    assert z.stat().st_size < 1 << 20
    t0 = time.time()
    with pytest.raises(UserError, match=r'The 40 tweet files of bomb.zip together would inflate to 0.1 GiB from 0.\d MiB'): read_archive(z)
    assert time.time() - t0 < 1

def test_special_files_are_refused_before_reading(tmp_path):
    "A FIFO (which would hang a read) or a device such as /dev/zero (endless): one sentence, nothing read"
    import signal
    os.mkfifo(tmp_path/'posts.txt'); os.mkfifo(tmp_path/'a.zip')
    old = signal.signal(signal.SIGALRM, lambda *a: (_ for _ in ()).throw(TimeoutError('hung')))
    signal.alarm(10)
    try:
        for call, says in [(lambda: read_file(tmp_path/'posts.txt'), 'is a named pipe (FIFO)'), (lambda: read_archive(tmp_path/'a.zip'), 'is a named pipe (FIFO)'),
                           (lambda: read_archive('/dev/zero'), 'is a device'), (lambda: read_file('/dev/zero'), 'is a device')]:
            with pytest.raises(UserError, match=re.escape(says)): call()
    finally: signal.alarm(0); signal.signal(signal.SIGALRM, old)

@pytest.mark.parametrize('ext', ['.txt', '.csv', '.jsonl'])
def test_a_huge_line_is_refused_in_bounded_memory(tmp_path, ext):
    "A 48 MiB line (no newline): refused after reading about a mebibyte of it, not read whole"
    p = tmp_path/f'posts{ext}'
    with open(p, 'wb') as f:
        f.write({'.txt': b'first post here\n', '.csv': b'text\nfirst post here\n', '.jsonl': b'{"text": "first post here"}\n'}[ext])
        for _ in range(48): f.write(b'x' * (1 << 20))
    tracemalloc.start()
    try:
        with pytest.raises(UserError, match=r'line \d, is over 1,048,576 characters long'): read_file(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally: tracemalloc.stop()
    assert peak < 24 << 20, f'{peak / 2**20:.0f} MiB'

def test_archive_post_too_long(tmp_path, monkeypatch):
    monkeypatch.setattr(files, 'MAX_POST_CHARS', 1000)
    z = make_archive(tmp_path/'a.zip', ['fine post here', 'y' * 1001])
    with pytest.raises(UserError, match=r'data/tweets.js, item 1, holds a post of 1,001 characters'): read_archive(z)

def test_archive_posts_once_each_long_ones_in_full(tmp_path):
    "tweet.js beside tweets.js (the same tweets): each tweet once; note-tweet.js gives a long post's full text; a second YTD array in a file is read"
    long = 'A long post that goes on and on about many things, ' * 12
    cut = long[:270] + '… https://t.co/abc'
    items = [tweet(1, 'one two three'), tweet(2, cut, created_at='Tue May 30 18:00:00 +0000 2023'), tweet(3, 'three four five')]
    note = [{'noteTweet': {'noteTweetId': '9', 'createdAt': '2023-05-30T18:00:00.000Z', 'core': {'text': long, 'urls': []}}}]
    z = tmp_path/'a.zip'
    with zipfile.ZipFile(z, 'w') as zf:
        zf.writestr('data/tweets.js', ytd('tweets', items[:2]) + ';\n' + ytd('tweets', items[2:], 1))
        zf.writestr('data/tweet.js', ytd('tweet', items))
        zf.writestr('data/note-tweet.js', ytd('note_tweet', note))
    fct.test_eq([(p.id, p.text) for p in read_archive(z).posts], [('1', 'one two three'), ('2', long), ('3', 'three four five')])

def test_duplicate_member_names_are_refused(tmp_path):
    z = tmp_path/'a.zip'
    with zipfile.ZipFile(z, 'w') as zf, pytest.warns(UserWarning):
        zf.writestr('data/tweets.js', ytd('tweets', [tweet(1, 'first copy here')]))
        zf.writestr('data/tweets.js', ytd('tweets', [tweet(2, 'second copy here')]))
    with pytest.raises(UserError, match='holds two files named data/tweets.js'): read_archive(z)

@pytest.mark.parametrize('ext', ['.json', '.jsonl'])
def test_a_json_text_that_is_not_text(tmp_path, ext):
    rows = [{'text': 'a real post here'}, {'text': {'nested': 'object'}}]
    p = tmp_path/f'posts{ext}'
    p.write_text(json.dumps(rows) if ext == '.json' else ''.join(json.dumps(r) + '\n' for r in rows))
    with pytest.raises(UserError, match=r'(line 2|item 1), has a text that is a JSON object, not text'): read_file(p)

YTD_JUNK = st.one_of(st.binary(max_size=2000), st.lists(PIECES | st.sampled_from([b'window.YTD.tweets.part0 = ', b'"tweet"', b'"full_text"', b'\\ud800', b'"id_str"']), max_size=60).map(b''.join),
                     st.text(max_size=400).map(lambda t: ('window.YTD.tweets.part0 = [' + t).encode('utf-8', 'surrogatepass')))

@examples(150)
@given(kind=st.sampled_from(['zip bytes', 'zipped tweets.js', 'unpacked tweets.js', 'text file']), data=YTD_JUNK, text=st.text(max_size=300), ext=SUFFIXES)
def test_every_reader_on_anything(kind, data, text, ext):
    "The Done-when property: any bytes or text, to any reader (archive zipped or not, CSV, TSV, JSON, JSONL, TXT): posts or one UserError sentence, quickly, in bounded memory"
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        if kind == 'zip bytes': (d/'a.zip').write_bytes(data); call = lambda: read_archive(d/'a.zip')
        elif kind == 'zipped tweets.js':
            with zipfile.ZipFile(d/'a.zip', 'w') as z: z.writestr('data/tweets.js', data); z.writestr('data/account.js', text.encode('utf-8', 'surrogatepass'))
            call = lambda: read_archive(d/'a.zip')
        elif kind == 'unpacked tweets.js': (d/'data').mkdir(); (d/'data'/'tweets.js').write_bytes(data); call = lambda: read_archive(d)
        else: (d/f'posts{ext}').write_bytes(text.encode('utf-8', 'surrogatepass') + data); call = lambda: read_file(d/f'posts{ext}')
        tracemalloc.start(); t0 = time.time()
        try: a = call()
        except UserError as e: assert str(e) and '\n' not in str(e)
        else: assert all(isinstance(p.text, str) for p in a.posts) and isinstance(a.handle, str)
        finally: peak = tracemalloc.get_traced_memory()[1]; tracemalloc.stop()
        assert time.time() - t0 < 5 and peak < 64 << 20, (time.time() - t0, peak)
