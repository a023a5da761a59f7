"""People's pages, split by feature: accounts, profiles, pseuds, invitations."""
