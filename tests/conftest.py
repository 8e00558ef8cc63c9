"""Shared test configuration: hypothesis profiles.

``HYPOTHESIS_PROFILE=ci`` (what .ci/run sets) derandomizes hypothesis so a CI run is
reproducible: the same examples every time, no example database, no deadline (the machine is
shared and timing is not what these tests check). ``dev`` is the default for local runs;
``thorough`` draws many more examples for a long local sweep.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=300,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=200)
settings.register_profile("thorough", deadline=None, max_examples=5000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
