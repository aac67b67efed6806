"""The load generator: Locust in its own processes, every latency in HDR histograms.

The pytest process plans a run (``plan``), starts one Locust master and N workers as separate
processes (``orchestrate``), and reads their results back from files (``results``). Nothing in
this package but ``locustfile`` and ``scenario`` runs inside Locust, and only those may import
gevent or locust: the pytest process never does.
"""
