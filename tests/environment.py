"""Loaded by pytest before Django's settings (`-p tests.environment` in pytest.ini).

The test suite runs with DEBUG off, like production, so it needs a secret key.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-" + "x" * 20)
os.environ.setdefault("CLINNOVA_TEST", "1")
