"""A local HTTP server that replays scripted responses, so tests can run the remote sources without a network.

Routes map (method, path) to a response, a list of responses (served in turn, the last one repeated),
or a function of the `Request` that returns one. A response is `(status, headers, body)` (see `reply`),
or `DROP` to close the connection without answering. Every request is recorded in `server.requests`.
"""
import json, socket, threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).parent/'fixtures'/'social'
DROP = 'DROP' # A response that closes the connection without a word

def fixture(name:str):
    "A fixture of tests/fixtures/social, parsed when it is JSON"
    p = FIXTURES/name
    return json.loads(p.read_text(encoding='utf-8')) if p.suffix == '.json' else p.read_text(encoding='utf-8')

def reply(body=None, status:int=200, headers:dict|None=None):
    "A response: `body` is a dict or list (sent as JSON), str, bytes or None"
    return (status, dict(headers or {}), body)

@dataclass
class Request:
    "A request the server got"
    method:str
    path:str
    query:dict # name -> list of values
    headers:dict
    body:bytes
    def param(self, name, default=None): return self.query.get(name, [default])[0]

class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1' # keep-alive, like real APIs: clients reuse pooled connections
    def log_message(self, *args): pass

    def _serve(self):
        u = urlsplit(self.path)
        n = int(self.headers.get('Content-Length') or 0)
        req = Request(self.command, u.path, parse_qs(u.query, keep_blank_values=True), dict(self.headers), self.rfile.read(n) if n else b'')
        srv = self.server.fake
        with srv.lock: srv.requests.append(req)
        resp = srv.respond(req)
        if resp == DROP:
            self.close_connection = True
            try: self.connection.shutdown(socket.SHUT_RDWR)
            except OSError: pass
            return
        status, headers, body = resp
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers.setdefault('Content-Type', 'application/json; charset=utf-8')
        elif isinstance(body, str):
            body = body.encode()
            headers.setdefault('Content-Type', 'text/plain; charset=utf-8')
        body = body or b''
        self.send_response(status)
        for k, v in headers.items(): self.send_header(k, str(v))
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

class FakeServer:
    "A scripted HTTP server on 127.0.0.1 (a free port), in a thread"
    def __init__(self):
        self.routes, self.requests, self.lock = {}, [], threading.Lock()
        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.fake = self
        self.thread = None

    @property
    def url(self): return f'http://127.0.0.1:{self.httpd.server_port}'

    def on(self, method:str, path:str, response):
        "Answer `method path` with `response`: a response, a list of them (served in turn), or a function of the `Request`"
        if isinstance(response, list): response = InTurn(response)
        self.routes[(method.upper(), path)] = response
        return self

    def respond(self, req:Request):
        r = self.routes.get((req.method, req.path))
        if r is None: return reply({'error': 'NotFound', 'message': f'no route for {req.method} {req.path}'}, 404)
        if callable(r): r = r(req)
        if r == DROP: return DROP
        status, headers, body = r
        return status, dict(headers), body

    def got(self, path:str|None=None)->list:
        "The requests received, those for `path` only when given"
        with self.lock: return [r for r in self.requests if path is None or r.path == path]

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self): return self.start()
    def __exit__(self, *exc): self.stop()

class InTurn:
    "Responses served in turn; the last one is repeated"
    def __init__(self, responses): self.responses, self.i, self.lock = list(responses), 0, threading.Lock()
    def __call__(self, req):
        with self.lock:
            r = self.responses[min(self.i, len(self.responses)-1)]
            self.i += 1
        return r(req) if callable(r) else r
