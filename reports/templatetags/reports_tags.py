from django import template

from reports.formatting import describe_change, drill_url, format_value

register = template.Library()


@register.filter
def in_unit(value, unit):
    return format_value(value, unit)


@register.simple_tag
def change_of(figure):
    return describe_change(figure.value, figure.previous, figure.unit, figure.better)


@register.simple_tag(takes_context=True)
def rows_url(context, drill):
    return drill_url(drill, context["period"].params)
