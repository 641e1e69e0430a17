"""Configuration defaults: the ROS parameter files in config/ are the only place they live.

Each file is a ROS 2 parameter file (`/**: ros__parameters: ...`), so launch files pass it
to the nodes unchanged, and the ROS-free cores read the same values through `defaults()`.
"""
from importlib.resources import files

import yaml

# `mode` of vision_node and audio_node: "full" recognises on the device; "edge" stops before
# the models and sends face crops and voice features to a central recogniser
# (av_emotion_network's central_node), so no scene pixels or sound leave the device.
MODES = ('full', 'edge')


def _flatten(tree, prefix=''):
    flat = {}
    for key, value in tree.items():
        name = f'{prefix}{key}'
        if isinstance(value, dict):
            flat.update(_flatten(value, f'{name}.'))
        else:
            flat[name] = value
    return flat


def config_path(name):
    """Path of config/<name>.yaml as installed with this package."""
    return files('av_emotion') / 'config' / f'{name}.yaml'


def defaults(name):
    """Parameters of config/<name>.yaml as a flat dict with dotted names."""
    tree = yaml.safe_load(config_path(name).read_text())
    return _flatten(tree['/**']['ros__parameters'])


def merged(name, overrides=None):
    """defaults(name) updated with `overrides`; unknown names are an error."""
    params = defaults(name)
    unknown = set(overrides or ()) - set(params)
    if unknown:
        raise KeyError(f'unknown {name} parameters: {sorted(unknown)}; known: {sorted(params)}')
    params.update(overrides or {})
    return params
