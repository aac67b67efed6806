"""Load scenarios, shipped as ``releasegate.loadtests``: ``generic`` (the profile's ``[load]``
endpoints) and ``rento`` (the reference application's weighted mix). Each module has
``endpoints(config)`` and ``build(config, *, worker, workers, seed)``."""
