"""Who may do what: one function per question, asked by the admin, the API, the importer and the services.

Roles come from a user's membership (tracking.models.Membership): reporters
and managers enter reports for their region's targets, managers also keep
its programmes, items and targets, reviewers approve or return the reports
of every region under theirs. A superuser acts as every role everywhere. Where
a user may act is the scoping rule, Region.objects.visible_to(user).
"""

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .models import Membership, Region

Role = Membership.Role
ENTRY_ROLES = (Role.REPORTER, Role.MANAGER)
# Group names created by migration 0002, one per role: they carry the admin's model permissions.
ROLE_GROUPS = {Role.REPORTER: "填报员", Role.MANAGER: "管理员", Role.REVIEWER: "审核员"}


def role_of(user):
    """The user's role, or None. Superusers act as every role at once."""
    membership = getattr(user, "membership", None) if user.is_authenticated else None
    return membership.role if membership else None


def _acts_as(user, roles):
    return user.is_authenticated and user.is_active and (user.is_superuser or role_of(user) in roles)


def enters_reports(user):
    """Whether the user enters reports somewhere: a reporter or manager (imports, submit actions)."""
    return _acts_as(user, ENTRY_ROLES)


def reviews_reports(user):
    """Whether the user reviews reports somewhere: a reviewer (approve and return actions)."""
    return _acts_as(user, (Role.REVIEWER,))


def manages_plans(user):
    """Whether the user keeps programmes, items and targets somewhere: a manager."""
    return _acts_as(user, (Role.MANAGER,))


def in_scope(user, region_code):
    return Region.objects.visible_to(user).filter(pk=region_code).exists()


def may_enter(user, target):
    """May this user add, change, delete or submit reports for this target?"""
    return enters_reports(user) and in_scope(user, target.programme.region_id)


def may_review(user, target):
    """May this user approve or return this target's reports?"""
    return reviews_reports(user) and in_scope(user, target.programme.region_id)


def may_manage(user, region_code):
    """May this user create or change programmes, items and targets of this region?"""
    return manages_plans(user) and in_scope(user, region_code)


@transaction.atomic
def grant_role(*, username, region_code, role, password=None):
    """Create or update a staff user with one region and one role.

    The role's group replaces any other role group, so a user who moves from
    reporter to reviewer loses the reporter's permissions. A password given
    here is checked by the project's password validators; None leaves the
    current one (a new user without one cannot log in until it is set).
    """
    if role not in Role.values:
        choices = "、".join(f"{value}（{label}）" for value, label in Role.choices)
        raise ValidationError({"role": _("未知的角色“%(role)s”，可选：%(choices)s") % {"role": role, "choices": choices}})
    region = Region.objects.filter(pk=region_code).first()
    if region is None:
        raise ValidationError({"region": _("未知的地区代码“%(code)s”") % {"code": region_code}})

    User = get_user_model()
    user = User.objects.select_for_update().filter(username=username).first()
    if user is None:
        user = User(username=username)
        user.full_clean(exclude=["password"])
        user.set_unusable_password()
    if password is not None:
        try:
            password_validation.validate_password(password, user)
        except ValidationError as error:
            raise ValidationError({"password": error.messages}) from None
        user.set_password(password)
    user.is_staff = True
    user.save()

    membership = Membership.objects.filter(user=user).first() or Membership(user=user)
    membership.region = region
    membership.role = role
    membership.full_clean()
    membership.save()

    groups = Group.objects.filter(name__in=ROLE_GROUPS.values())
    user.groups.remove(*[g for g in groups if g.name != ROLE_GROUPS[role]])
    user.groups.add(Group.objects.get(name=ROLE_GROUPS[role]))
    return membership
