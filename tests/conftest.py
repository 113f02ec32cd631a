import pytest
from fakeserver import FakeServer
from bsky_stack import bsky # the running reference Bluesky stack (tools/bsky/start.sh), for the tests against real servers

@pytest.fixture
def server():
    "A scripted local HTTP server (see fakeserver.py), stopped after the test"
    with FakeServer() as s: yield s
