"""Reports for people: the memory report of `tinygen inspect --html`."""
