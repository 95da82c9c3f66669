"""C generation from the plan and kernel calls, through Jinja2 templates."""
