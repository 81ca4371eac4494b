"""The REST API under /api/v1/, one module per resource and one per piece of shared plumbing.

Views stay thin: every queryset starts from what the request may see
(base.visible, i.e. visible_to()), every progress figure comes from
Target.objects.with_progress(), and every write calls tracking.services or
tracking.importing, whose Django exceptions errors.exception_handler()
translates. This package imports nothing here: settings.REST_FRAMEWORK names
its parser and throttles, which DRF imports while it loads its own settings.
"""
