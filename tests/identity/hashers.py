"""A cheap Argon2id for the identity tests: the same algorithm and hash format as production, with
parameters small enough that a hundred sign-ins do not take a minute on a 2-core machine.
Tests of the stored hash itself use the production hasher (`production_hasher` fixture)."""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2idHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 1024
    parallelism = 1
