"""Configuration errors name the file, the key and the valid choices."""
from __future__ import annotations

import pytest

from pipeline.config import ConfigError, load_config

GOOD = """
[database]
url = "sqlite:///yibao.db"

[[source]]
id = "weifang-bendibao-flexible"
url = "http://example.com/a.html"
region = "潍坊市"
province = "山东省"
kind = "page"

[[source]]
id = "luoyang"
url = "http://example.com/list.html"
kind = "listing"
follow = "医保|缴费"

[[alert]]
type = "webhook"
url = "http://127.0.0.1:9/hook"
secret_env = "YIBAO_WEBHOOK_SECRET"

[[alert]]
type = "email"
smtp = "smtp://127.0.0.1:8025"
from = "yibao@example.com"
to = ["analyst@example.com"]
password_env = "YIBAO_SMTP_PASSWORD"
"""


def _load(tmp_path, text):
    path = tmp_path / "yibao.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_documented_config_loads(tmp_path):
    config = _load(tmp_path, GOOD)
    assert [s.id for s in config.source] == ["weifang-bendibao-flexible", "luoyang"]
    assert list(config.channels()) == ["webhook-1", "email-2"]
    assert config.database.url == f"sqlite:///{tmp_path / 'yibao.db'}"  # relative to the config file


def test_default_database_when_absent(tmp_path):
    config = _load(tmp_path, '[[source]]\nid = "a"\nurl = "http://x/"\n')
    assert config.database.url.endswith("/yibao.db")


@pytest.mark.parametrize("edit, words", [
    (("kind = \"page\"", "kind = \"pages\""), ["yibao.toml", "[[source]] #1", "kind", "'page' or 'listing'"]),
    (("region = \"潍坊市\"", "regoin = \"潍坊市\""), ["yibao.toml", "regoin", "unknown key", "region"]),
    (("type = \"email\"", "type = \"sms\""), ["yibao.toml", "[[alert]] #2", "sms", "webhook, email, apprise"]),
    (("[database]", "[databse]"), ["yibao.toml", "databse", "unknown key", "database"]),
    (("to = [\"analyst@example.com\"]", "to = \"analyst@example.com\""), ["yibao.toml", "[[alert]] #2", "to"]),
    (("follow = \"医保|缴费\"", "follow = \"医保(\""), ["yibao.toml", "follow", "regular expression"]),
])
def test_bad_config_fails_naming_file_key_and_choices(tmp_path, edit, words):
    old, new = edit
    assert old in GOOD
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, GOOD.replace(old, new, 1))
    message = str(info.value)
    for word in words:
        assert word in message, message


def test_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml")


def test_every_toml_block_in_the_readme_is_a_valid_config():
    import re
    import tomllib
    from pathlib import Path

    from pipeline.config import parse_config

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", readme, re.S)
    assert len(blocks) >= 3
    for block in blocks:
        parse_config(tomllib.loads(block.replace("url = \"http://wf.bendibao.com/...\"",
                                                 "url = \"http://wf.bendibao.com/x\"")), "README.md")


def test_the_example_sources_file_loads(tmp_path):
    from pathlib import Path

    config = load_config(Path(__file__).resolve().parent.parent / "sources.example.toml")
    assert len({s.region for s in config.source if s.region}) >= 10
