"""Test double of launch.conditions (see the package docstring)."""
from launch.utilities import normalize_to_list_of_substitutions, perform_substitutions


class IfCondition:
    def __init__(self, predicate_expression):
        self._predicate = normalize_to_list_of_substitutions(predicate_expression)

    def evaluate(self, context):
        value = perform_substitutions(context, self._predicate).strip().lower()
        if value not in ('true', 'false', '1', '0'):
            raise ValueError(f'IfCondition expects true or false, got {value!r}')
        return value in ('true', '1')
