"""The one receiver: fixture loading, the only write that bypasses the services.

`loaddata` (the `seed` and `demo` commands, the container's entrypoint)
saves rows raw, without any service, and still sends post_save. A loaded
report or target gets its stored totals, and its programme its tally, here;
a loaded target whose file lacks its code's sort key (a dump made before
there was one) gets it too.
Every other write goes through tracking.services, which make the same calls
in plain sight; scripts that write with the ORM call tracking.totals.refresh()
themselves, and `manage.py verify_progress` finds anything they forgot.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from .reports import ProgressReport
from .targets import Target, code_key


@receiver(post_save, sender=ProgressReport)
@receiver(post_save, sender=Target)
def _refresh_after_loading_a_fixture(sender, instance, raw=False, **kwargs):
    if not raw:
        return
    from ..totals import refresh

    if sender is Target and instance.code_key != code_key(instance.code):
        Target.objects.filter(pk=instance.pk).update(code_key=code_key(instance.code))
    refresh([instance.target_id if sender is ProgressReport else instance.pk])
