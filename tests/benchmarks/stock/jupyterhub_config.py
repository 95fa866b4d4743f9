"""Stock DockerSpawner configuration, as its documentation shows it, for comparison."""

import os

c = get_config()  # noqa: F821
c.JupyterHub.spawner_class = "dockerspawner.DockerSpawner"
c.DockerSpawner.image = os.environ["STOCK_IMAGE"]
c.DockerSpawner.network_name = os.environ["STOCK_NETWORK"]
c.DockerSpawner.remove = True
c.DockerSpawner.pull_policy = "never"
c.DockerSpawner.prefix = os.environ["STUDIO_PREFIX"]
c.JupyterHub.hub_ip = os.environ["STOCK_GATEWAY"]
c.JupyterHub.hub_port = int(os.environ["STUDIO_HUB_PORT"])
c.JupyterHub.bind_url = f"http://127.0.0.1:{os.environ['STUDIO_PORT']}"
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = "stock-password"
c.JupyterHub.db_url = f"sqlite:///{os.environ['STUDIO_DATA_DIR']}/stock.sqlite"
c.JupyterHub.cookie_secret_file = f"{os.environ['STUDIO_DATA_DIR']}/cookie_secret"
c.ConfigurableHTTPProxy.should_start = False
c.ConfigurableHTTPProxy.api_url = os.environ["STUDIO_PROXY_API_URL"]
c.Authenticator.allow_all = True
c.JupyterHub.services = [{"name": "bench", "api_token": os.environ["STUDIO_ADMIN_TOKEN"]}]
c.JupyterHub.load_roles = [{"name": "bench", "scopes": ["admin:users", "admin:servers", "access:servers",
                                                       "tokens"], "services": ["bench"]}]
