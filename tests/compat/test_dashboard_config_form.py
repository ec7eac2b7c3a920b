"""The Configuration tab's environment table and layer picker (issue 24, item 1) over plain
HTTP: variables as key/value rows with a "secret" flag whose value never reaches a dashboard
page (the config form, the Test tab's result and log, the Logs tab) while the Lambda and Logs
APIs answer exactly as AWS does; layers chosen by name and version, in merge order, at most 5;
the older KEY=value textarea form still works."""

from __future__ import annotations

import html
import json
import re
import time

import boto3
import pytest
from botocore.config import Config

from conftest import REGION, make_zip, unique
from dashboard_client import Dashboard, first_admin_password

TOKEN = "tok-Zq81-very-secret"
CODE = ("import os\n"
        "def lambda_handler(event, context):\n"
        "    print('the token is', os.environ.get('TOKEN'))\n"
        "    return {'token': os.environ.get('TOKEN'), 'greeting': os.environ.get('GREETING')}\n")


@pytest.fixture(scope="module")
def admin(daemon):
    d = Dashboard(daemon.endpoint)
    d.login_ok("admin", first_admin_password(daemon.data_dir))
    return d


def revision(daemon, fn: str) -> str:
    return daemon.client().get_function_configuration(FunctionName=fn)["RevisionId"]


def config_fields(rev: str, **extra) -> dict:
    return {"runtime": "python3.11", "handler": "lambda_function.lambda_handler", "description": "",
            "memory": "128", "timeout": "3", "ephemeral": "512", "revision": rev, **extra}


def logs_client(daemon):
    key_id, secret = daemon.admin_keys()
    return boto3.client("logs", endpoint_url=daemon.endpoint, region_name=REGION, aws_access_key_id=key_id,
                        aws_secret_access_key=secret, config=Config(retries={"total_max_attempts": 1}))


def test_secret_variables_are_masked_in_pages_but_not_in_the_api(daemon, admin):
    fn = unique("secret")
    plain = unique("plain")
    assert admin.create_function(fn, code=CODE, env="GREETING=hi").status == 303
    assert admin.create_function(plain, code=CODE, env="GREETING=hi").status == 303
    cfg_url = f"/ui/functions/{fn}/configuration"
    page = admin.get(cfg_url).text
    assert re.search(r'name="env_key_0" id="env-key-0" value="GREETING"', page), page[:3000]
    assert re.search(r'name="env_value_0" id="env-value-0" value="hi"', page)
    assert 'name="env_key_1"' in page and 'name="env_key_2"' in page, "empty rows to add variables"
    r = admin.post(cfg_url, config_fields(revision(daemon, fn), env_key_0="GREETING", env_value_0="hello",
                                          env_key_1="TOKEN", env_value_1=TOKEN, env_secret_1="1",
                                          env_key_2="", env_value_2=""))
    assert r.status == 303, r.text[:2000]
    lam = daemon.client()
    cfg = lam.get_function_configuration(FunctionName=fn)
    assert cfg["Environment"] == {"Variables": {"GREETING": "hello", "TOKEN": TOKEN}}, "the API answers as AWS does"
    assert set(cfg) == set(lam.get_function_configuration(FunctionName=plain)), "no extra field in the API"
    assert lam.get_function(FunctionName=fn)["Configuration"]["Environment"]["Variables"]["TOKEN"] == TOKEN
    # the page never carries the value
    page = admin.get(cfg_url).text
    assert TOKEN not in page
    assert re.search(r'name="env_key_1" id="env-key-1" value="TOKEN"', page)
    assert re.search(r'<input name="env_value_1" id="env-value-1" type="password" value=""', page)
    assert re.search(r'name="env_secret_1" id="env-secret-1" value="1" checked', page)
    # saved again with the secret's field empty: kept; the other value changes
    r = admin.post(cfg_url, config_fields(revision(daemon, fn), env_key_0="GREETING", env_value_0="hey",
                                          env_key_1="TOKEN", env_value_1="", env_secret_1="1"))
    assert r.status == 303, r.text[:2000]
    assert lam.get_function_configuration(FunctionName=fn)["Environment"]["Variables"] == {"GREETING": "hey", "TOKEN": TOKEN}
    # the Test tab's result and log show **** for it
    admin.get(f"/ui/functions/{fn}/test")
    r = admin.post(f"/ui/functions/{fn}/test", {"action": "run", "event": "{}"})
    assert r.status == 200 and "Succeeded" in r.text, r.text[:2000]
    shown = html.unescape(r.text)
    assert TOKEN not in shown and '"token": "****"' in shown and "the token is ****" in shown
    # the Logs tab too, while the Logs API answers the stored events as they are
    group = f"/aws/lambda/{fn}"
    logs = logs_client(daemon)
    deadline = time.monotonic() + 30
    events = []
    while not events and time.monotonic() < deadline:
        try:
            events = logs.filter_log_events(logGroupName=group, filterPattern='"the token is"')["events"]
        except logs.exceptions.ResourceNotFoundException:
            pass  # the log writer creates the group with its first batch
        if not events:
            time.sleep(0.2)
    assert events and TOKEN in events[0]["message"], events
    page = admin.get(f"/ui/functions/{fn}/logs").text
    assert "the token is ****" in page and TOKEN not in page
    page = admin.get(f"/ui/functions/{fn}/logs?filter=token&range=1h").text
    assert "the token is ****" in page and TOKEN not in page
    # unflagged with a new value: shown again
    r = admin.post(cfg_url, config_fields(revision(daemon, fn), env_key_0="GREETING", env_value_0="hey",
                                          env_key_1="TOKEN", env_value_1="now-public"))
    assert r.status == 303
    page = admin.get(cfg_url).text
    assert re.search(r'name="env_value_1" id="env-value-1" value="now-public"', page)
    # refusals keep what was typed and change nothing
    before = revision(daemon, fn)
    r = admin.post(cfg_url, config_fields(before, env_key_0="GREETING", env_value_0="x", env_key_1="GREETING", env_value_1="y"))
    assert r.status == 422 and "named twice" in r.text
    r = admin.post(cfg_url, config_fields(before, env_key_0="", env_value_0="orphan"))
    assert r.status == 422 and "has a value but no name" in r.text and 'value="orphan"' in r.text
    assert revision(daemon, fn) == before
    # the older KEY=value form is still read
    r = admin.post(cfg_url, config_fields(before, env="AA=1\nBB=2"))
    assert r.status == 303, re.findall(r'class="field-error"[^>]*>(.*?)<', r.text)
    assert lam.get_function_configuration(FunctionName=fn)["Environment"]["Variables"] == {"AA": "1", "BB": "2"}


def test_layers_are_picked_by_name_and_version(daemon, admin):
    lam = daemon.client()
    layer = unique("picked")
    lib = make_zip({"python/picked_lib.py": "WORD = 'one'\n"})
    v1 = lam.publish_layer_version(LayerName=layer, Description="first", Content={"ZipFile": lib},
                                   CompatibleRuntimes=["python3.11"])["LayerVersionArn"]
    lib2 = make_zip({"python/picked_lib.py": "WORD = 'two'\n"})
    v2 = lam.publish_layer_version(LayerName=layer, Content={"ZipFile": lib2},
                                   CompatibleRuntimes=["nodejs20.x"])["LayerVersionArn"]
    other = unique("override")
    o1 = lam.publish_layer_version(LayerName=other, Content={"ZipFile": lib2})["LayerVersionArn"]
    fn = unique("uses-picked")
    assert admin.create_function(fn, code="import picked_lib\ndef lambda_handler(e, c):\n    return picked_lib.WORD\n").status == 303
    cfg_url = f"/ui/functions/{fn}/configuration"
    page = admin.get(cfg_url).text
    selects = re.findall(r'<select name="layer" id="layer-(\d)"', page)
    assert selects == ["1", "2", "3", "4", "5"], selects
    first = re.search(r'<select name="layer" id="layer-1".*?</select>', page, re.S).group(0)
    assert f'<option value="{v2}" >{layer} · version 2 (nodejs20.x; not listed for this runtime)</option>' in first, first
    assert f'<option value="{v1}" >{layer} · version 1 — first (python3.11)</option>' in first
    assert first.index(v2) < first.index(v1), "newest first"
    assert "ARN" not in re.search(r"<legend>Layers</legend>.*?</fieldset>", page, re.S).group(0)

    def post_layers(chosen):
        body = [("csrf", admin.csrf), *config_fields(revision(daemon, fn), env="").items()]
        body += [("layer", a) for a in chosen]
        return admin.request("POST", cfg_url, data=body)

    r = post_layers([v1, "", "", "", ""])
    assert r.status == 303, r.text[:2000]
    assert [l["Arn"] for l in lam.get_function_configuration(FunctionName=fn)["Layers"]] == [v1]
    assert json.loads(lam.invoke(FunctionName=fn, Payload=b"{}")["Payload"].read()) == "one"
    page = admin.get(cfg_url).text
    assert re.search(rf'<select name="layer" id="layer-1".*?<option value="{re.escape(v1)}" selected>', page, re.S)
    # merge order is the order of the selects: the later layer's file wins
    r = post_layers(["", v1, "", o1, ""])
    assert r.status == 303, re.findall(r'class="field-error"[^>]*>(.*?)<', r.text)
    assert [l["Arn"] for l in lam.get_function_configuration(FunctionName=fn)["Layers"]] == [v1, o1]
    assert json.loads(lam.invoke(FunctionName=fn, Payload=b"{}")["Payload"].read()) == "two"
    before = revision(daemon, fn)
    r = post_layers([v1] * 6)
    assert r.status == 422 and "at most 5 layers" in r.text
    assert revision(daemon, fn) == before
    # a form without layer fields leaves them; all selects on "none" removes them
    r = admin.post(cfg_url, config_fields(before, env=""))
    assert r.status == 303
    assert len(lam.get_function_configuration(FunctionName=fn)["Layers"]) == 2
    r = post_layers([""] * 5)
    assert r.status == 303
    assert lam.get_function_configuration(FunctionName=fn).get("Layers", []) == []
