"""Platform administration: the pages and API only platform admins reach (the audit trail and its check). It sits
above the packages it reads, so audit itself never needs to know who is asking."""
