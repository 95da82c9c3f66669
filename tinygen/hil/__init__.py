"""Hardware in the loop: check a model on a board (emulated or real) against TFLite Micro, with
reports for CI (tinygen hil), the pytest plugin, and the labgrid glue."""
