"""The Spark and MLflow UI links that work where the learner's browser is."""

from __future__ import annotations

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
