"""The task queue (huey) and the outbox: side effects written in the caller's transaction and handed to the queue
after its commit. Knows no domain: the domains' tasks, the schedules, the worker command and the admin page of
failed jobs are ``marketplace.worker``'s."""
