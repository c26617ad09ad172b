"""A worker's log lines name the task they run: django-q2's signals set portal.logcontext's task
name (and the task's id as the request id) around each task. Connected in PortalConfig.ready()."""

from django.dispatch import receiver
from django_q.signals import post_execute_in_worker, pre_execute

from portal.logcontext import request_id, task_name


@receiver(pre_execute, dispatch_uid="portal.log_task_started")
def task_started(sender, func=None, task=None, **kwargs) -> None:
    name = (task or {}).get("name") or ""
    path = (task or {}).get("func")
    task_name.set(path if isinstance(path, str) else getattr(func, "__qualname__", name) or name)
    request_id.set((task or {}).get("id"))


@receiver(post_execute_in_worker, dispatch_uid="portal.log_task_done")
def task_done(sender, **kwargs) -> None:
    task_name.set(None)
    request_id.set(None)
