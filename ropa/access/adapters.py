"""How django-allauth behaves in the register: no open sign-up; accounts are made by a DPO."""

from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False
