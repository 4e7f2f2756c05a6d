"""Sphinx extension: the build's Jupyter kernels encrypt what they exchange with the build.

myst-nb runs each chapter in an ipykernel that talks to the build over five
TCP ports of 127.0.0.1. By default jupyter_client gives the kernel no keys,
so every message (code and outputs) crosses those ports in plain text,
readable by any process on the machine; ipykernel says so in every build log:
"Kernel is running over TCP without encryption".

jupyter_client (8.10 and later) can give each kernel CurveZMQ keys of its
own when the kernel's spec declares ``"supported_encryption": ["curve"]``,
as ipykernel's ``python3`` spec does: its ``transport_encryption`` setting,
``"disabled"`` by default. myst-nb, jupyter-cache and nbclient create their
kernel managers without a Jupyter configuration, so this extension makes
``"auto"`` the setting's default for the build process: a kernel that
declares Curve support gets keys, others run as before. Where pyzmq lacks
CurveZMQ (``zmq.has("curve")`` false), nothing changes.

Enabled in ``_config.yml`` under ``sphinx: local_extensions``.
"""

from __future__ import annotations

from sphinx.application import Sphinx


def encrypt_kernel_transport() -> bool:
    """Make ``"auto"`` the default ``transport_encryption``; return whether it did."""
    import zmq
    from jupyter_client.manager import KernelManager

    trait = KernelManager.class_traits().get("transport_encryption")
    if trait is None or not zmq.has("curve"):
        return False
    trait.default_value = "auto"
    return True


def setup(app: Sphinx) -> dict:
    encrypt_kernel_transport()
    return {"parallel_read_safe": True, "parallel_write_safe": True}
