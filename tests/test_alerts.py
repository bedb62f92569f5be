"""Alerts that arrive exactly once: real SMTP, a real webhook receiver, Apprise to a local server (issue 6)."""
from __future__ import annotations

import datetime as dt
import email
import ipaddress
import json
import ssl
import threading
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from alerts import Change, Notice
from alerts.channels import EmailChannel, split_message
from pipeline.demo.receiver import Receiver
from storage.models import Delivery

from .conftest import yibao
from .harness import World, page

WF = {"id": "wf", "url": "http://wf.example/a.html", "region": "潍坊市", "province": "山东省"}
LY = {"id": "ly", "url": "http://ly.example/a.html", "region": "洛阳市", "province": "河南省"}
NO_WAIT = {"retry_base_seconds": 0}


def flex(base_max: int = 21207, ltc: int = 4) -> str:
    return page("2025潍坊灵活就业医保缴费标准",
                f"2025年度灵活就业人员缴费基数最低档4416元、社会平均工资档7360元、最高档{base_max}元。",
                "医疗险费率：6%（无个人账户、无生育）或7%（无个人账户、带生育）。",
                f"长期护理保险每月{ltc}元，大额医疗保险每年150元。")


def resident(contribution: int = 400) -> str:
    return page("2025年洛阳城乡居民医保缴费标准", f"2025年度城乡居民个人缴费标准为每人每年{contribution}元。",
                "财政补助标准每人每年不低于670元。")


def hook(receiver: Receiver, **extra) -> dict:
    return {"type": "webhook", "name": "hook", "url": receiver.url, "secret_env": "YIBAO_TEST_SECRET", **extra}


@pytest.fixture(autouse=True)
def secret(monkeypatch):
    monkeypatch.setenv("YIBAO_TEST_SECRET", "test-secret")


# --------------------------------------------------------------------------- webhook


def test_receiver_failing_first_attempts_gets_every_event_exactly_once(sqlite_url):
    receiver = Receiver("test-secret", fail_first=2).start()
    try:
        w = World(sqlite_url, [WF], alerts=[hook(receiver)], outbox=NO_WAIT)
        w.run({"wf": flex()})
        w.run({"wf": flex(base_max=22080, ltc=5)})  # attempt 1: 503
        assert receiver.posts == [] and len(receiver.attempts) == 1
        w.run({"wf": None})  # attempt 2: 503
        w.run({"wf": None})  # attempt 3: delivered
        w.run({"wf": None})  # nothing left
        assert len(receiver.posts) == 1
        ids = [c["event_id"] for c in receiver.posts[0]["body"]["changes"]]
        assert sorted(ids) == sorted(e.uid for e in w.events(notify_only=True)) and len(ids) == 2
        assert len({a["delivery"] for a in receiver.attempts}) == 1, "the delivery id is stable across retries"
        assert all(a["signature_ok"] for a in receiver.attempts)
        with w.factory() as s:
            rows = list(s.scalars(select(Delivery)))
        assert {r.status for r in rows} == {"sent"} and {r.attempts for r in rows} == {3}
    finally:
        receiver.stop()


class Answer(BaseHTTPRequestHandler):
    status = 410

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(type(self).status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("status, final", [(410, "failed"), (400, "failed"), (429, "pending"), (500, "pending"),
                                           (408, "pending")])
def test_webhook_status_decides_retry_or_permanent_failure(sqlite_url, status, final):
    handler = type("H", (Answer,), {"status": status})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        w = World(sqlite_url, [WF], alerts=[{"type": "webhook", "name": "hook", "url": url}], outbox=NO_WAIT)
        w.run({"wf": flex()})
        w.run({"wf": flex(base_max=22080)})
        with w.factory() as s:
            row = s.scalars(select(Delivery)).one()
        assert row.status == final and f"HTTP {status}" in (row.last_error or "")
    finally:
        server.shutdown()


def test_backoff_waits_longer_after_each_failure(sqlite_url):
    w = World(sqlite_url, [WF], alerts=[{"type": "webhook", "name": "hook", "url": "http://127.0.0.1:9/dead"}],
              outbox={"retry_base_seconds": 60, "retry_max_seconds": 600})
    w.run({"wf": flex()})
    w.run({"wf": flex(base_max=22080)}, advance=dt.timedelta(days=1))
    waits = []
    for _ in range(6):
        with w.factory() as s:
            row = s.scalars(select(Delivery)).one()
            waits.append((row.next_attempt_at - w.now).total_seconds())
        w.now = row.next_attempt_at
        w.run({"wf": None}, advance=dt.timedelta(0))
    assert waits == [60, 120, 240, 480, 600, 600]


def test_a_failing_channel_never_blocks_another(sqlite_url):
    good = Receiver(None).start()
    try:
        w = World(sqlite_url, [WF], outbox=NO_WAIT, alerts=[
            {"type": "webhook", "name": "dead", "url": "http://127.0.0.1:9/dead"},
            {"type": "webhook", "name": "good", "url": good.url}])
        w.run({"wf": flex()})
        w.run({"wf": flex(base_max=22080)})
        assert len(good.posts) == 1
        with w.factory() as s:
            status = {r.channel: r.status for r in s.scalars(select(Delivery))}
        assert status == {"dead": "pending", "good": "sent"}
    finally:
        good.stop()


# --------------------------------------------------------------------------- routing


def test_filters_route_events_per_channel(sqlite_url):
    receivers = {name: Receiver(None).start() for name in ("weifang", "rates", "big", "all")}
    try:
        w = World(sqlite_url, [WF, LY], outbox=NO_WAIT, alerts=[
            {"type": "webhook", "name": "weifang", "url": receivers["weifang"].url, "regions": ["潍坊市"]},
            {"type": "webhook", "name": "rates", "url": receivers["rates"].url, "metrics": ["surcharge"],
             "kinds": ["changed"]},
            {"type": "webhook", "name": "big", "url": receivers["big"].url, "min_change": 0.05},
            {"type": "webhook", "name": "all", "url": receivers["all"].url, "mode": "immediate"},
        ])
        w.run({"wf": flex(), "ly": resident()})
        w.run({"wf": flex(base_max=21300, ltc=5), "ly": resident(420)})

        def got(name: str) -> set[tuple[str, str]]:
            return {(c["region"], c["metric"]) for p in receivers[name].posts for c in p["body"]["changes"]}

        assert got("weifang") == {("潍坊市", "base_max"), ("潍坊市", "surcharge")}
        assert got("rates") == {("潍坊市", "surcharge")}
        # 21207 → 21300 is 0.4 %: below min_change; 4 → 5 and 400 → 420 are not
        assert got("big") == {("潍坊市", "surcharge"), ("洛阳市", "contribution")}
        assert got("all") == {("潍坊市", "base_max"), ("潍坊市", "surcharge"), ("洛阳市", "contribution")}
        assert len(receivers["all"].posts) == 3, "immediate: one message per event"
        assert len(receivers["weifang"].posts) == 1, "digest: one message per run"
    finally:
        for r in receivers.values():
            r.stop()


# --------------------------------------------------------------------------- email


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def _auth(inbox: Inbox):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def authenticator(server, session, envelope, mechanism, data):
        if isinstance(data, LoginPassword):
            inbox.logins.append((data.login.decode(), data.password.decode()))
            return AuthResult(success=data.password == b"s3cret")
        return AuthResult(success=False)

    return authenticator


def _certificate(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def tls(tmp_path):
    cert, key = _certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return cert, context


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _smtp(inbox: Inbox, **kw) -> Controller:
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), **kw)
    controller.start()
    return controller


def _mail_world(sqlite_url: str, smtp_url: str, **extra) -> World:
    return World(sqlite_url, [WF, LY], outbox=NO_WAIT, alerts=[
        {"type": "email", "name": "mail", "smtp": smtp_url, "from": "yibao@example.com",
         "to": ["analyst@example.com", "hr@example.com"], **extra}])


def test_email_digest_one_mail_per_run_grouped_by_region(sqlite_url):
    inbox = Inbox()
    controller = _smtp(inbox)
    try:
        w = _mail_world(sqlite_url, f"smtp://127.0.0.1:{controller.port}")
        w.run({"wf": flex(), "ly": resident()})
        w.run({"wf": flex(base_max=22080, ltc=5), "ly": resident(420)})
        assert len(inbox.messages) == 1
        msg = inbox.messages[0]
        assert "潍坊市" in msg["Subject"] and "洛阳市" in msg["Subject"] and "3项" in msg["Subject"]
        plain = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        assert plain.index("== 洛阳市") < plain.index("== 潍坊市")
        assert "21207元/月 → 22080元/月" in plain and "400元/年 → 420元/年" in plain
        assert "最高档22080元" in plain and "http://wf.example/a.html" in plain
        assert '<a href="http://ly.example/a.html">' in html and "依据" in html
        assert msg["X-Yibao-Delivery"]
    finally:
        controller.stop()


def test_email_starttls_with_login_from_environment(sqlite_url, tls, monkeypatch):
    cert, context = tls
    inbox = Inbox()
    controller = _smtp(inbox, tls_context=context, require_starttls=True, authenticator=_auth(inbox),
                       auth_require_tls=True)
    monkeypatch.setenv("YIBAO_SMTP_PASSWORD", "s3cret")
    try:
        w = _mail_world(sqlite_url, f"smtp://yibao@127.0.0.1:{controller.port}?starttls=true",
                        password_env="YIBAO_SMTP_PASSWORD", ca_file=str(cert))
        w.run({"wf": flex(), "ly": resident()})
        w.run({"wf": flex(base_max=22080), "ly": resident()})
        assert inbox.logins == [("yibao", "s3cret")] and len(inbox.messages) == 1
    finally:
        controller.stop()


def test_email_over_ssl(tls):
    from aiosmtpd.smtp import SMTP

    cert, context = tls
    inbox = Inbox()

    class SSLController(Controller):
        def factory(self):
            return SMTP(self.handler)

    controller = SSLController(inbox, hostname="127.0.0.1", port=free_port(), ssl_context=context)
    controller.start()
    try:
        channel = EmailChannel("mail", f"smtps://127.0.0.1:{controller.port}", "yibao@example.com", ["a@example.com"],
                               ca_file=str(cert))
        channel.send(_notice())
        assert len(inbox.messages) == 1 and "测试" not in inbox.messages[0]["Subject"]
    finally:
        controller.stop()


def test_email_with_an_untrusted_certificate_is_refused(tls):
    cert, context = tls
    inbox = Inbox()
    controller = _smtp(inbox, tls_context=context, require_starttls=True)
    try:
        channel = EmailChannel("mail", f"smtp://127.0.0.1:{controller.port}?starttls=true", "y@example.com",
                               ["a@example.com"])
        from alerts import DeliveryFailed

        with pytest.raises(DeliveryFailed, match="certificate"):
            channel.send(_notice())
        assert inbox.messages == []
    finally:
        controller.stop()


def _notice(n: int = 1) -> Notice:
    changes = tuple(Change(f"e{i}", "changed", "潍坊市", "山东省", "flexible", "base_max", None, 2025, 21207, 22080 + i,
                           "CNY/month", "http://wf.example/a.html", "缴费基数上限为22080元。" * 3, "2026-01-05T08:00:00")
                    for i in range(n))
    return Notice(delivery_id="d-1", run_id=7, changes=changes)


# --------------------------------------------------------------------------- apprise


class JsonSink(BaseHTTPRequestHandler):
    bodies: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802
        type(self).bodies.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0)))))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_apprise_delivers_markdown_split_to_the_service_limit(sqlite_url):
    handler = type("Sink", (JsonSink,), {"bodies": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"json://127.0.0.1:{server.server_address[1]}/notify"
        from alerts.channels import AppriseChannel

        AppriseChannel("chat", [url], max_chars=400).send(_notice(6))
        assert len(handler.bodies) > 1, "a long digest is split"
        assert all(len(b["message"]) <= 400 for b in handler.bodies)
        text = "".join(b["message"] for b in handler.bodies)
        assert text.count("[变更]") == 6 and "**潍坊市**" in text
        assert handler.bodies[0]["title"].endswith(f"（1/{len(handler.bodies)}）")
    finally:
        server.shutdown()


def test_split_message_keeps_lines_whole():
    text = "".join(f"第{i}行：" + "字" * 30 + "\n" for i in range(50))
    parts = split_message(text, 200)
    assert "".join(parts) == text and all(len(p) <= 200 for p in parts)
    assert all(p.endswith("\n") for p in parts)


# --------------------------------------------------------------------------- source health


def test_failing_source_raises_one_notice_and_one_on_recovery(sqlite_url):
    receiver = Receiver(None).start()
    try:
        w = World(sqlite_url, [WF], outbox={"retry_base_seconds": 0, "health_failures": 3},
                  alerts=[{"type": "webhook", "name": "hook", "url": receiver.url}])
        w.run({"wf": flex()})
        for _ in range(5):
            w.run({"wf": 500})
        w.run({"wf": None})
        w.run({"wf": None})
        health = [h for p in receiver.posts for h in p["body"].get("health", [])]
        assert [(h["state"], h["failures"]) for h in health] == [("broken", 3), ("recovered", 5)]
    finally:
        receiver.stop()


def test_404_marks_a_source_broken_at_once_without_deleting_facts(sqlite_url):
    receiver = Receiver(None).start()
    try:
        w = World(sqlite_url, [WF], outbox=NO_WAIT, alerts=[{"type": "webhook", "name": "hook", "url": receiver.url}])
        w.run({"wf": flex()})
        w.run({"wf": 404})
        health = [h for p in receiver.posts for h in p["body"].get("health", [])]
        assert [h["state"] for h in health] == ["broken"] and "gone" in health[0]["error"]
        assert w.events() == []
    finally:
        receiver.stop()


@pytest.mark.parametrize("wall", [
    "<html><head><title>安全验证</title></head><body><p>请完成安全验证后继续访问</p><div id='captcha'></div></body></html>",
    "<html><head><title>访问过于频繁</title></head><body>您的访问过于频繁，请稍后再试。</body></html>",
    "<html><head><title>用户登录</title></head><body><form>请登录后查看 用户名 密码</form></body></html>",
    "<html><head><title></title><script src='app.js'></script></head><body><div id='app'></div></body></html>",
])
def test_walls_count_as_failed_fetches_not_as_removed_figures(sqlite_url, wall):
    w = World(sqlite_url, [WF], diff={"removed_after": 1}, outbox=NO_WAIT)
    w.run({"wf": flex()})
    pipe = w.run({"wf": wall})
    assert w.events() == [], "a wall must not read as 'every figure removed'"
    assert pipe.counts.failed_sources == {"wf"}
    assert w.snapshots() == 1


# --------------------------------------------------------------------------- CLI


def test_alerts_test_and_status_commands(tmp_path):
    receiver = Receiver("test-secret").start()
    try:
        cfg = tmp_path / "yibao.toml"
        cfg.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "a.db"}"\n\n[[alert]]\ntype = "webhook"\n'
                       f'url = "{receiver.url}"\nsecret_env = "YIBAO_TEST_SECRET"\n', encoding="utf-8")
        done = yibao("--config", str(cfg), "alerts", "test", "webhook-1", env={"YIBAO_TEST_SECRET": "test-secret"})
        assert done.returncode == 0, done.stderr
        assert len(receiver.posts) == 1 and receiver.posts[0]["signature_ok"]
        assert receiver.posts[0]["body"]["test"] is True
        wrong = yibao("--config", str(cfg), "alerts", "test", "nope")
        assert wrong.returncode != 0 and "webhook-1" in wrong.stderr
        status = yibao("--config", str(cfg), "alerts", "status")
        assert status.returncode == 0 and "no deliveries" in status.stdout
    finally:
        receiver.stop()
