import pytest
from fakeserver import FakeServer

@pytest.fixture
def server():
    "A scripted local HTTP server (see fakeserver.py), stopped after the test"
    with FakeServer() as s: yield s
