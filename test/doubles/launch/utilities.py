"""Test double of launch.utilities (see the package docstring)."""


def normalize_to_list_of_substitutions(value):
    from launch.substitutions import TextSubstitution
    items = value if isinstance(value, (list, tuple)) else [value]
    return [TextSubstitution(text=i) if isinstance(i, str) else i for i in items]


def perform_substitutions(context, substitutions):
    return ''.join(s.perform(context) for s in substitutions)
