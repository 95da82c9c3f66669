"""The Jinja2 environment for generated C: strict about undefined names, with C filters."""

from __future__ import annotations

from functools import lru_cache

import jinja2

from tinygen.codegen.cformat import c_identifier, c_int, c_string
from tinygen.resources import TEMPLATES_DIR


@lru_cache(maxsize=1)
def template_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["c_string"] = c_string
    env.filters["c_ident"] = c_identifier
    env.filters["c_int"] = c_int
    return env


def render(template_name: str, **context: object) -> str:
    return template_env().get_template(template_name).render(**context)
