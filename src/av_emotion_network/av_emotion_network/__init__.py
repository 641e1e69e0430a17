"""Several devices on one network: a central recogniser for edge devices, a room view."""
