"""The caseworker web: server-rendered pages (Jinja2, Simplified Chinese, htmx).

Contract for pages built on this layer (case page, dashboard, …)
-----------------------------------------------------------------

Register an ``APIRouter(include_in_schema=False)`` and include it in
:func:`jiuzhu.web.app.install_web`. Then, in every route:

``current_user(request) -> Viewer`` (:mod:`jiuzhu.web.auth`)
    Use as ``viewer: Annotated[Viewer, Depends(current_user)]``. Raises
    ``NotSignedIn``: pages redirect to ``/signin?next=…``. ``Viewer`` holds
    ``username, display_name, roles, org_unit, org_name, scope`` (org unit codes,
    ``None`` = all), ``lanes`` (BPMN lane names, ``None`` = all), ``department``
    (partner users) and ``has(*roles)``, ``read_only`` (auditors).
``require_role(*roles)``
    ``Depends(require_role("county_officer", "auditor", "admin"))``: the viewer, or 403.
``can_see_instance(viewer, record) -> bool``
    ``record`` is ``engine.instance_record(instance_id)`` (an ``InstanceRecord``,
    cheap: no workflow load). Refuse with ``raise forbid()`` (→ 403 page).
``can_act_on_task(viewer, task, record)``, ``can_see_task(viewer, task, record)``, ``can_see_full_id(viewer, record)``
    ``task`` is ``engine.ready_task(task_id)`` (a ``TaskRow``).
``in_scope(viewer, org_unit)``
    For filtering lists (e.g. dashboard rows by ``org_unit``).
``csrf_protected``
    Every POST route: ``dependencies=[Depends(csrf_protected)]``; forms carry
    ``<input type="hidden" name="csrf_token" value="{{ csrf }}">``; htmx requests
    send the ``X-CSRF-Token`` header set on ``<body>`` by ``base.html``.
``shown_id_number(context, viewer, record, value, field=…)`` (:mod:`jiuzhu.web.privacy`)
    The full 身份证号 for authorized roles, recorded as an ``id_number_viewed``
    audit event on the case's chain; otherwise the mask (3301**********1234).
    ``engine.runtime.task_facts.mask_id`` masks for lists.
``web(request) -> WebContext`` (:mod:`jiuzhu.web.context`)
    ``.engine``, ``.settings``, ``.accounts``, ``.directory()`` (org tree:
    ``unit_name(code)``, ``role_label(code)``), ``.process_name(process_id)``.
``render(request, "page.html", {...}, status=200)`` (:mod:`jiuzhu.web.templating`)
    Renders with ``viewer``, ``csrf``, ``nav`` and ``path`` set; templates
    ``{% extends "base.html" %}`` and fill ``{% block content %}`` (and
    ``title``, ``head``). ``templates`` is the shared ``Jinja2Templates``;
    filter ``beijing`` formats a UTC moment in Beijing time. The nav shows
    the entries of :data:`jiuzhu.web.menu.MENU` the viewer's roles open and
    the app has a route for; a new page with a menu entry adds its gate there.
Static files
    ``/static/vendor/htmx.min.js``, ``/static/vendor/bpmn-js/…`` and
    ``/static/vendor/echarts/…`` are the npm packages' ``dist`` folders.

Every new route must also be added to ``EXPECTED`` in
``tests/web/test_authz_matrix.py`` (the test enumerates the app's routes and fails
on any route without a rule). ``/api`` routes are authorized by
:data:`jiuzhu.web.api_guard.API_RULES` (deny by default).
"""
