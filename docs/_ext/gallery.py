"""Placeholder while the gallery is written."""


def setup(app):
    return {"parallel_read_safe": True}
