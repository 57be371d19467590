"""The person's approval app: sign-in, device approval, spend approval, wallet pages."""
