"""Links to the web UIs lessons start (Spark UI, MLflow UI) that work where the learner's browser is.

Lessons start these UIs on the machine that runs the kernel. When JupyterLab runs on the
learner's own machine, ``http://127.0.0.1:<port>/`` works. When it does not (Binder, a
JupyterHub, a devcontainer in the cloud), the browser cannot reach that address; JupyterLab
serves them instead through jupyter-server-proxy at ``<JupyterLab's base URL>proxy/<port>/``, and
GitHub Codespaces forwards ports at ``https://<codespace>-<port>.<domain>/``.

Environment variables read:

- ``SPARKCOURSE_PROXY_PREFIX``: JupyterLab's base URL as the browser sees it (e.g.
  ``/user/ada/``); set by hand for a proxy this module does not recognise;
- ``JUPYTERHUB_SERVICE_PREFIX``: set by JupyterHub and Binder for every single-user server;
- ``CODESPACE_NAME`` and ``GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN``: set by GitHub Codespaces.
"""

from __future__ import annotations

import os
import socket

SPARK_UI_PORT = 4040


def setting(env: dict | None = None) -> str:
    """Where the learner's browser is, relative to the kernel: "jupyter-proxy", "codespaces" or "local"."""
    env = os.environ if env is None else env
    if env.get("SPARKCOURSE_PROXY_PREFIX") or env.get("JUPYTERHUB_SERVICE_PREFIX"):
        return "jupyter-proxy"
    if env.get("CODESPACE_NAME") and env.get("GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN"):
        return "codespaces"
    return "local"


def proxy_prefix(env: dict | None = None) -> str:
    """JupyterLab's base URL as the browser sees it, ending in '/'."""
    env = os.environ if env is None else env
    prefix = env.get("SPARKCOURSE_PROXY_PREFIX") or env.get("JUPYTERHUB_SERVICE_PREFIX") or "/"
    return "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"


def link(port: int, path: str = "", env: dict | None = None) -> str:
    """The address of a UI on ``port`` of the kernel's machine, as the learner's browser reaches it."""
    env = os.environ if env is None else env
    path = path.lstrip("/")
    where = setting(env)
    if where == "jupyter-proxy":
        return f"{proxy_prefix(env)}proxy/{port}/{path}"
    if where == "codespaces":
        return f"https://{env['CODESPACE_NAME']}-{port}.{env['GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN']}/{path}"
    return f"http://127.0.0.1:{port}/{path}"


def _free_from(port: int, tries: int = 32) -> int:
    for candidate in range(port, port + tries):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return candidate
    return port


def spark_ui_conf(env: dict | None = None) -> dict[str, str]:
    """Spark settings so the Spark UI works behind JupyterLab's proxy (its links carry the proxy's
    path): a fixed free port and ``spark.ui.proxyBase``. Empty where the UI is reached directly."""
    env = os.environ if env is None else env
    if setting(env) != "jupyter-proxy":
        return {}
    port = _free_from(SPARK_UI_PORT)
    return {"spark.ui.port": str(port), "spark.ui.proxyBase": f"{proxy_prefix(env)}proxy/{port}"}


def spark_ui(spark, env: dict | None = None) -> str | None:
    """The link to this session's Spark UI for the learner's browser (None without a UI)."""
    url = spark.sparkContext.uiWebUrl
    if not url:
        return None
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    return link(port, "jobs/", env)


def describe(env: dict | None = None) -> str:
    """One line for make doctor: where the UIs are reached in this setting."""
    where = setting(env)
    example = link(SPARK_UI_PORT, "", env)
    if where == "jupyter-proxy":
        return (f"through JupyterLab (jupyter-server-proxy): Spark UI at {example}, "
                f"MLflow UI at {link(0, '', env).replace('/0/', '/<its port>/')}")
    if where == "codespaces":
        return f"Codespaces' forwarded ports: Spark UI at {example}"
    return f"on this machine: Spark UI at {example}"
