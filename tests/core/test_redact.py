from __future__ import annotations

from checkrunner.core.redact import MASK, Redactor, url_secret_parts


def test_registered_secrets_are_masked_longest_first() -> None:
    redactor = Redactor(["abcd1234", "abcd12345678"])
    assert redactor("x abcd12345678 y abcd1234") == f"x {MASK} y {MASK}"


def test_short_values_are_not_masked_to_keep_text_readable() -> None:
    assert Redactor(["ab"])("tab stab") == "tab stab"


def test_url_credentials_and_apprise_path_tokens_are_secret_parts() -> None:
    assert url_secret_parts("mailto://user:pa55word@smtp.example.com?to=a@b.c&format=html") == ["pa55word"]
    assert url_secret_parts("json://127.0.0.1/hook?token=abc") == ["abc"]
    slack = "slack://T000AAAA/B000BBBB/XXXXXXXXXXXXXXXX1234XXXX"
    assert "XXXXXXXXXXXXXXXX1234XXXX" in url_secret_parts(slack, path_tokens=True)
    assert url_secret_parts("sqlite:////tmp/pytest-109/test_x0/db1.sqlite") == []
    assert url_secret_parts("https://example.com/health") == []
