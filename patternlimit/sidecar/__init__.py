"""The standalone service: ``patternlimit serve``, for gateways and apps in any language.

:func:`patternlimit.sidecar.app.build_app` is an ASGI app over one :class:`~patternlimit.Limiter`; ``patternlimit
serve`` runs it under uvicorn. See docs/sidecar.md for the endpoints.
"""
