"""The Docker network learner containers live on.

One bridge per stack, made by the hub itself so the policy is code, not a compose detail:

- inter-container traffic is off (``enable_icc=false``): a learner cannot reach another
  learner's container, whatever the policy;
- with the ``closed`` policy the network is ``internal``: nothing is forwarded off the
  bridge, so neither the internet nor the cloud metadata address is reachable;
- the hub (and the grader) listen on the bridge's gateway address, which containers
  reach through the host's input path, not the forwarding one. Services on the host
  that listen only on loopback stay out of reach.
"""

from __future__ import annotations

import logging

import docker
from docker.errors import NotFound

from .settings import StudioConfigError

log = logging.getLogger(__name__)

ICC_OPTION = "com.docker.network.bridge.enable_icc"


def learner_network_name(prefix: str) -> str:
    return f"{prefix}-learners"


def ensure_learner_network(
    client: docker.DockerClient, prefix: str, policy: str, subnet: str = ""
) -> tuple[str, str]:
    """Create (or check) the learner network; return its name and gateway address.

    A network left over with another policy is rebuilt when no container is on it;
    otherwise the hub refuses to start, since learners would not get the policy asked for.
    """
    name = learner_network_name(prefix)
    want_internal = policy == "closed"
    try:
        net = client.networks.get(name)
    except NotFound:
        net = None
    if net is not None:
        attrs = net.attrs
        same = (
            bool(attrs.get("Internal")) == want_internal
            and attrs.get("Options", {}).get(ICC_OPTION) == "false"
        )
        if not same:
            if attrs.get("Containers"):
                raise StudioConfigError(
                    f"network {name} exists with another policy and has learner containers "
                    f"on it; stop all learner servers, then start the hub again to apply "
                    f"STUDIO_NETWORK_POLICY={policy}"
                )
            log.info("Rebuilding learner network %s for policy %s", name, policy)
            net.remove()
            net = None
    if net is None:
        ipam = None
        if subnet:
            ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=subnet)])
        net = client.networks.create(
            name,
            driver="bridge",
            internal=want_internal,
            options={ICC_OPTION: "false"},
            ipam=ipam,
            labels={"org.learning-studio.prefix": prefix, "org.learning-studio.role": "learners"},
        )
        net.reload()
        log.info("Created learner network %s (policy %s)", name, policy)
    configs = net.attrs.get("IPAM", {}).get("Config") or []
    gateway = next((c.get("Gateway") for c in configs if c.get("Gateway")), "")
    if not gateway:
        raise StudioConfigError(f"network {name} has no gateway address; remove it and retry")
    return name, gateway
