"""The harness shared by ``tests/`` and ``benchmarks/``: private, and imported by no module of the package.

Like ``pandas._testing``, it lives in the package so that the benchmarks need not import the tests:

- :mod:`~patternlimit._testing.traffic`: hand-built request streams, one shape per legitimate look-alike of a
  campaign (a CI bot, a corporate NAT, a flash crowd, a classroom) and the campaign itself;
- :mod:`~patternlimit._testing.redis_server`: real Redis-protocol servers on free ports, one or a three-master
  cluster (``redis-server`` from ``PATH``, else the ``valkey-server`` that the ``test`` extra installs);
- :mod:`~patternlimit._testing.web_servers`: an app of the checkout served by uvicorn or gunicorn in a subprocess.

The test-only dependencies it uses (httpx, the web servers) are imported inside the functions that need them, so
that the package imports without the ``test`` extra.
"""
