"""A password hasher for the test suite: Django's PBKDF2-SHA256 with few iterations.

Every test that needs a person creates one with a password, and the production hasher is slow on purpose
(1.2 million iterations: about half a second per password on this project's machines, a few minutes of the
suite). The algorithm and the stored format are the production ones, and the iteration count is written into
each hash, so a server a test starts in its own process (gunicorn, a worker) with the production hasher list
verifies these passwords unchanged.
"""

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class QuickPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 1_000
