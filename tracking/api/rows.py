"""Serializing values() rows with the serializers' own fields: the same JSON as DRF's, without model instances.

For a page of 100 targets, building model instances and DRF's walk over
every field of every row (get_attribute, the readable-fields generator, a
dict per row) cost more than the query. Here each field's values() path and
converter are found once per serializer class, and a row is one dict
comprehension. A nested many=True field takes a list of its child's rows
under its own name, so one serializer describes a nested payload for the
schema and renders it (the programme detail).
"""

import functools

from django.db import models
from rest_framework import serializers


class RowsSerializer(serializers.ListSerializer):
    """list_serializer_class of serializers whose lists are given as values() rows.

    Model instances (a single object's serializer, or a caller passing
    objects) take DRF's usual way.
    """

    def to_representation(self, data):
        rows = data.all() if isinstance(data, models.manager.BaseManager) else data
        if not isinstance(rows, list):
            rows = list(rows)
        if rows and not isinstance(rows[0], dict):
            return super().to_representation(rows)
        return rows_data(type(self.child), rows)


def rows_data(serializer_class, rows):
    """values() rows as serializer_class would render their objects (its fields read-only)."""
    plan = row_plan(serializer_class)
    return [{name: None if (value := row[path]) is None else convert(value) for name, path, convert in plan} for row in rows]


@functools.cache
def row_plan(serializer_class):
    """(name, row key, converter) for each field of a serializer of read-only fields.

    Built once per class: building a ModelSerializer's fields costs more than
    serializing a page, and these fields' conversions do not depend on the
    request. A flat field's key is its values() path; a nested many=True
    serializer's is its name, holding a list of its child's rows.
    """
    plan = []
    for name, field in serializer_class().fields.items():
        if isinstance(field, serializers.ListSerializer):
            child = type(field.child)
            plan.append((name, name, functools.partial(rows_data, child)))
            continue
        if isinstance(field, serializers.PrimaryKeyRelatedField):
            # values() gives the related row's key itself.
            convert = field.pk_field.to_representation if field.pk_field else _same
        elif isinstance(field, (serializers.BaseSerializer, serializers.SerializerMethodField)):
            raise TypeError(f"{serializer_class.__name__}.{name}: rows carry flat fields and lists of rows only")
        else:
            convert = field.to_representation
        plan.append((name, "__".join(field.source_attrs), convert))
    return plan


def row_paths(serializer_class):
    """What to pass to values() for a serializer's flat fields."""
    return [path for name, path, convert in row_plan(serializer_class) if not isinstance(convert, functools.partial)]


def _same(value):
    return value
