"""Settings of the server bench/pages.py measures: the product's, plus a bare view in its own urlconf.

The bare view exists only here (never in the product): the baseline of the home page's benchmark.
"""

from selfcare.settings import *  # noqa: F403

ROOT_URLCONF = "pages_urls"
