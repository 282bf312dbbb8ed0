"""The Spark and MLflow UI links that work where the learner's browser is."""

from __future__ import annotations

import re

import pytest

from sparkcourse import links, session

HUB = {"JUPYTERHUB_SERVICE_PREFIX": "/user/ada/"}
CODESPACES = {"CODESPACE_NAME": "ada-spark-x7", "GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN": "app.github.dev"}


def test_on_the_learners_own_machine_the_loopback_address():
    assert links.setting({}) == "local"
    assert links.link(4040, "jobs/", {}) == "http://127.0.0.1:4040/jobs/"
    assert links.spark_ui_conf({}) == {}


def test_binder_and_jupyterhub_go_through_jupyterlabs_proxy():
    assert links.setting(HUB) == "jupyter-proxy"
    assert links.link(5000, "", HUB) == "/user/ada/proxy/5000/"
    assert links.link(4040, "/jobs/", {"SPARKCOURSE_PROXY_PREFIX": "lab"}) == "/lab/proxy/4040/jobs/"


def test_codespaces_forwarded_ports():
    assert links.link(4040, "jobs/", CODESPACES) == "https://ada-spark-x7-4040.app.github.dev/jobs/"


def test_spark_ui_behind_the_proxy_gets_its_path_and_a_fixed_port():
    conf = session.build_conf("x", env=HUB)
    port = conf["spark.ui.port"]
    assert conf["spark.ui.proxyBase"] == f"/user/ada/proxy/{port}"
    assert "spark.ui.proxyBase" not in session.build_conf("x", env={})
    assert "spark.ui.proxyBase" not in session.build_conf("x", env={**HUB, "SPARKCOURSE_UI": "0"})


def test_the_session_link_follows_its_port():
    class Context:
        uiWebUrl = "http://10.0.0.5:4041"

    class Spark:
        sparkContext = Context()

    assert links.spark_ui(Spark(), HUB) == "/user/ada/proxy/4041/jobs/"
    assert links.spark_ui(Spark(), {}) == "http://127.0.0.1:4041/jobs/"


def test_jupyter_server_proxy_is_installed_and_enabled():
    """JupyterLab serves /proxy/<port>/ only with the extension: it is pinned and switched on."""
    from importlib import metadata
    import json
    import sys
    from pathlib import Path

    assert metadata.version("jupyter-server-proxy") == "4.6.0"
    config = Path(sys.prefix, "etc", "jupyter", "jupyter_server_config.d", "jupyter-server-proxy.json")
    assert json.loads(config.read_text())["ServerApp"]["jpserver_extensions"]["jupyter_server_proxy"] is True


SPARK_BEHIND_PROXY = """
import os, sys, urllib.request
from sparkcourse import get_spark, links
spark = get_spark("proxied-ui")
link = links.spark_ui(spark)
html = urllib.request.urlopen(f"{sys.argv[1]}{link}?token={sys.argv[2]}", timeout=60).read().decode()
base = link.rsplit("/jobs/", 1)[0]
print(link, "Spark Jobs" in html, f'"{base}/' in html)
spark.stop()
"""


@pytest.mark.servers
def test_spark_ui_through_jupyterlabs_proxy(tmp_path):
    """As on Binder: the Spark UI's page and its links come through JupyterLab at /proxy/<port>/."""
    import os
    import secrets
    import subprocess
    import sys
    from pathlib import Path

    from sparkcourse.services import Service

    token = secrets.token_hex(8)
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"), "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg")}
    command = [Path(sys.executable).with_name("jupyter"), "server", f"--ServerApp.root_dir={tmp_path}",
               "--ServerApp.ip=127.0.0.1", "--ServerApp.port={port}", "--ServerApp.port_retries=0",
               "--ServerApp.open_browser=False", f"--IdentityProvider.token={token}", "--allow-root"]
    with Service("JupyterLab proxy", command, ready_path=f"/api/status?token={token}", env=env, timeout=120) as lab:
        spark_env = {**os.environ, "JUPYTERHUB_SERVICE_PREFIX": "/", "SPARKCOURSE_UI": "1"}
        result = subprocess.run([sys.executable, "-c", SPARK_BEHIND_PROXY, lab.url, token], env=spark_env,
                                capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    link, page_ok, links_ok = result.stdout.split()[-3:]
    assert re.fullmatch(r"/proxy/\d+/jobs/", link) and page_ok == "True" and links_ok == "True", result.stdout
