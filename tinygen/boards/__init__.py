"""Board definitions: the schema of boards/*.toml and loading them."""
