"""Every environment variable the settings read is documented in docs/configuration.md."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_read_from_the_environment_is_documented():
    # Given the variables settings.py reads and the configuration document
    source = (ROOT / "src/selfcare/settings.py").read_text()
    read = set(re.findall(r'env_(?:str|bool|int|list)\("(SELFCARE_[A-Z0-9_]+)"', source))
    documented = set(re.findall(r"SELFCARE_[A-Z0-9_]+", (ROOT / "docs/configuration.md").read_text()))

    # Then none is missing (the secret key is read by config.secret_key, so it is checked too)
    assert "SELFCARE_SECRET_KEY" in documented
    assert sorted(read - documented) == []
