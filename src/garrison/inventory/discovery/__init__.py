"""Discovery sources: cloud (``aws``, ``azure``, ``gcp``), ``files`` and ``code``.

Each source returns a ``base.DiscoveryResult`` and never touches the store; the registry's
``apply_discovery`` records it. The commands live in ``garrison.cli.discover``.
"""
