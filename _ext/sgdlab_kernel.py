"""Sphinx extension: the build's Jupyter kernels talk to it over Unix sockets, not TCP.

myst-nb runs each chapter in an ipykernel, which by default listens on five
TCP ports of 127.0.0.1: any process on the machine can connect to them (the
messages are signed, not encrypted), which is why every kernel logs
"Kernel is running over TCP without encryption". A build needs no network
between itself and its kernels. With the ``ipc`` transport the kernel listens
on Unix sockets beside its connection file, in Jupyter's runtime folder,
which only the user who builds can open; no port is opened and the warning
has nothing to warn about.

myst-nb and jupyter-cache create their kernel managers without a Jupyter
configuration, so the transport is set as the default of jupyter_client's
``transport`` trait, for this build process only. Windows has no ``ipc``
transport in ZeroMQ: there the default stays ``tcp``.

Enabled in ``_config.yml`` under ``sphinx: local_extensions``.
"""

from __future__ import annotations

import os

from sphinx.application import Sphinx


def use_ipc_transport() -> bool:
    """Make ``ipc`` the default kernel transport on POSIX systems; return whether it did."""
    if os.name != "posix":
        return False
    from jupyter_client.connect import ConnectionFileMixin

    ConnectionFileMixin.class_traits()["transport"].default_value = "ipc"
    return True


def setup(app: Sphinx) -> dict:
    use_ipc_transport()
    return {"parallel_read_safe": True, "parallel_write_safe": True}
