from django import template
from django.utils.safestring import SafeString, mark_safe
from wagtail.rich_text import RichText, expand_db_html

from studio_site.base.sanitise import clean_html

register = template.Library()


@register.filter
def safe_richtext(value) -> SafeString:
    """Wagtail's `richtext` filter followed by the allow-list sanitiser."""
    if value is None:
        return mark_safe("")
    source = value.source if isinstance(value, RichText) else str(value)
    return mark_safe(clean_html(expand_db_html(source)))


@register.filter
def percent(value, total) -> int:
    try:
        return max(0, min(100, round(100 * float(value) / float(total))))
    except (TypeError, ValueError, ZeroDivisionError):
        return 0
