"""Pages for people. For now only the one-time delivery page; the Admin Center comes later."""
